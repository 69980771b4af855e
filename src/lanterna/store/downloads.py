"""Session downloads kept after the session: ``LANTERNA_HOME/storage/<tenant>/downloads/<session>/``.

When a session ends, the files its browser downloaded are copied here (regular files with
allowed names only, each read with ``O_NOFOLLOW`` and within the per-file cap), so they can be
listed and fetched after the browser and its profile folder are gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

from lanterna.models.files import FileInfo
from lanterna.store.uploads import list_plain_files, read_plain_file, uploads_folder

_SESSION = re.compile(r"[0-9a-f-]{36}")


class DownloadStorage:
    """Every tenant's kept downloads under ``home``."""

    def __init__(self, home: Path, *, max_file_bytes: int, max_files: int) -> None:
        self.home = home
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files

    def folder(self, tenant: str, session_id: str) -> Path:
        if not _SESSION.fullmatch(session_id):
            raise ValueError(f"not a session id: {session_id!r}")
        return uploads_folder(self.home, tenant).parent / "downloads" / session_id

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
