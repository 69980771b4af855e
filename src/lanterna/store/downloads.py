"""Session downloads kept after the session: ``LANTERNA_HOME/storage/<tenant>/downloads/<session>/``.

When a session ends, the files its browser downloaded are copied here (regular files with
allowed names only, each read with ``O_NOFOLLOW`` and within the per-file cap), so they can be
listed and fetched after the browser and its profile folder are gone. Retention deletes kept
files past an age, and a tenant's oldest past its total.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import os
import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from lanterna.errors import InvalidRequestError, PayloadTooLargeError
from lanterna.models.files import FileInfo
from lanterna.models.retention import RetentionPolicy, RetentionReport, past_retention
from lanterna.models.time import utc_now
from lanterna.store.uploads import (
    list_plain_files,
    name_problem,
    read_plain_file,
    size_text,
    uploads_folder,
    write_plain_file,
)

_SESSION = re.compile(r"[0-9a-f-]{36}")


class KeptDownload(BaseModel):
    """One kept file, as retention weighs it."""

    tenant: str
    session_id: str
    name: str
    size: int
    kept_at: datetime


class DownloadStorage:
    """Every tenant's kept downloads under ``home``, within ``policy`` once retention runs."""

    def __init__(self, home: Path, *, max_file_bytes: int, max_files: int, policy: RetentionPolicy) -> None:
        self.home = home
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.policy = policy  # max_total_bytes is per tenant
        self._locks: dict[str, asyncio.Lock] = {}

    def folder(self, tenant: str, session_id: str) -> Path:
        if not _SESSION.fullmatch(session_id):
            raise ValueError(f"not a session id: {session_id!r}")
        return self._tenant_folder(tenant) / session_id

    def _tenant_folder(self, tenant: str) -> Path:
        return uploads_folder(self.home, tenant).parent / "downloads"

    def keep(self, tenant: str, session_id: str, source: Path) -> int:
        """Copy the files in ``source`` (a session's downloads folder); returns how many."""
        kept = 0
        for info in list_plain_files(source)[: self.max_files]:
            content = read_plain_file(source, info.name, self.max_file_bytes)
            if content is None:
                continue
            folder = self.folder(tenant, session_id)
            folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                folder.mkdir(mode=0o700)
            _write(folder, info.name, content)
            kept += 1
        return kept

    def list(self, tenant: str, session_id: str) -> list[FileInfo]:
        return list_plain_files(self.folder(tenant, session_id))

    def read(self, tenant: str, session_id: str, name: str) -> bytes | None:
        return read_plain_file(self.folder(tenant, session_id), name, self.max_file_bytes)

    async def add(
        self, tenant: str, session_id: str, downloads_dir: Path, name: str, chunks: AsyncIterator[bytes]
    ) -> FileInfo:
        """Put ``chunks`` as ``name`` among a live session's downloads (its ``downloads_dir``),
        as if its browser had downloaded it; within the per-file, per-session and tenant caps."""
        problem = name_problem(name)
        if problem:
            raise InvalidRequestError(problem)
        async with self._locks.setdefault(tenant, asyncio.Lock()):  # so the tenant cap holds
            return await self._add(tenant, session_id, downloads_dir, name, chunks)

    async def _add(
        self, tenant: str, session_id: str, downloads_dir: Path, name: str, chunks: AsyncIterator[bytes]
    ) -> FileInfo:
        present = [f for f in list_plain_files(downloads_dir) if f.name != name]
        if len(present) >= self.max_files:
            raise PayloadTooLargeError(
                f"session {session_id} already has {len(present)} downloads, the most allowed; "
                "replace one by sending it under its name"
            )
        left = self.policy.max_total_bytes - self.tenant_bytes(tenant) - sum(f.size for f in present)
        return await write_plain_file(
            downloads_dir,
            name,
            chunks,
            max_bytes=self.max_file_bytes,
            too_large=self.file_too_large(),
            room=left,
            no_room=f"the file does not fit: your kept downloads may total "
            f"{size_text(self.policy.max_total_bytes)} and {size_text(max(left, 0))} are left",
        )

    def file_too_large(self) -> str:
        return f"the file is larger than {size_text(self.max_file_bytes)}, the most one download may be"

    # ----- retention ---------------------------------------------------------------------

    def kept(self, tenant: str) -> builtins.list[KeptDownload]:
        """The tenant's kept files, oldest first."""
        found = []
        with contextlib.suppress(OSError):
            for folder in self._tenant_folder(tenant).iterdir():
                if not _SESSION.fullmatch(folder.name) or folder.is_symlink():
                    continue
                for info in list_plain_files(folder):
                    kept_at = info.updated_at or datetime.fromtimestamp(0, UTC)
                    found.append(
                        KeptDownload(
                            tenant=tenant,
                            session_id=folder.name,
                            name=info.name,
                            size=info.size,
                            kept_at=kept_at,
                        )
                    )
        return sorted(found, key=lambda k: k.kept_at)

    def tenant_bytes(self, tenant: str) -> int:
        """Disk taken by the tenant's kept downloads."""
        return sum(k.size for k in self.kept(tenant))

    def tenants(self) -> builtins.list[str]:
        """Tenants with a storage folder."""
        with contextlib.suppress(OSError):
            return sorted(p.name for p in (self.home / "storage").iterdir() if _tenant_id(p.name))
        return []

    def enforce(self, now: datetime | None = None) -> RetentionReport:
        """Apply the policy once: files past the age go, then each tenant's oldest past its total."""
        now = now or utc_now()
        report = RetentionReport()
        for tenant in self.tenants():
            doomed = past_retention(
                self.kept(tenant), self.policy, now, kept_at=lambda k: k.kept_at, size=lambda k: k.size
            )
            for item in doomed:
                folder = self.folder(tenant, item.session_id)
                with contextlib.suppress(OSError):
                    _unlink(folder, item.name)
                    report.deleted += 1
                    report.freed_bytes += item.size
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only once it is empty
        return report


def _tenant_id(name: str) -> bool:
    try:
        uploads_folder(Path(), name)  # refuses anything that is not a tenant id
    except ValueError:
        return False
    return True


def _unlink(folder: Path, name: str) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.unlink(name, dir_fd=fd)
    finally:
        os.close(fd)


def _write(folder: Path, name: str, content: bytes) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        temp = f".keep-{secrets.token_hex(8)}"
        out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd)
        with os.fdopen(out, "wb") as file:
            file.write(content)
        os.replace(temp, name, src_dir_fd=fd, dst_dir_fd=fd)
    finally:
        os.close(fd)
