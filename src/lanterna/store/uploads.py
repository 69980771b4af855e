"""Tenant upload storage: files a tenant sent (``POST /storage/uploads/{name}``), on disk.

Each tenant has one flat folder, ``LANTERNA_HOME/storage/<tenant>/uploads/``. Names are plain
file names (``NAME_RULE``): no folders, no ``..``, no leading dot, so a name can never point
anywhere else. Files are written with mode 0600 through a temporary file and a rename inside a
folder opened with ``O_NOFOLLOW``, and read with ``O_NOFOLLOW``: a symlink placed in a folder is
never followed, whether it is the folder or the file. Sizes are capped per file and per tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import stat
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

from lanterna.errors import InvalidRequestError, PayloadTooLargeError
from lanterna.models.files import FileInfo

NAME_MAX = 128
NAME_RULE = (
    f"a plain file name of 1-{NAME_MAX} characters: letters, digits, spaces and . _ - + ( ) , @ =, "
    "starting with a letter, digit or '_', without '..', '/' or NUL"
)
_NAME = re.compile(rf"[A-Za-z0-9_][A-Za-z0-9._ ()+,@=-]{{0,{NAME_MAX - 1}}}")
_TENANT = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_TEMP_PREFIX = ".upload-"  # never a valid name, so never listed nor read


def uploads_folder(home: Path, tenant: str) -> Path:
    """``home/storage/<tenant>/uploads``: where a tenant's uploads live (it may not exist yet)."""
    if not _TENANT.fullmatch(tenant):  # tenants are key ids; never let one shape a path
        raise ValueError(f"not a tenant id: {tenant!r}")
    return home / "storage" / tenant / "uploads"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an upload name, or ``None`` if it can."""
    if _NAME.fullmatch(name) and ".." not in name:
        return None
    shown = repr(name if len(name) <= 60 else name[:60] + "…")
    return f"{shown} is not an allowed file name; use {NAME_RULE}"


def plain_name(name: str) -> bool:
    """A name that stays inside its folder: no separator, no NUL, no leading dot (so no '..')."""
    return 0 < len(name) <= 255 and "/" not in name and "\0" not in name and not name.startswith(".")


@contextlib.contextmanager
def _folder(path: Path) -> Iterator[int]:
    """A descriptor of the folder ``path``; ``OSError`` if it (its last part) is a symlink."""
    fd = os.open(path, _DIR_FLAGS)
    try:
        yield fd
    finally:
        os.close(fd)


def read_plain_file(folder: Path, name: str, max_bytes: int) -> bytes | None:
    """The content of the regular file ``name`` directly in ``folder``; ``None`` if there is none.

    Symlinks (the file or the folder), devices, FIFOs and files over ``max_bytes`` count as none:
    nothing is followed out of ``folder``.
    """
    if not plain_name(name):
        return None
    try:
        with _folder(folder) as dir_fd:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
            with os.fdopen(fd, "rb") as file:
                info = os.fstat(file.fileno())
                if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
                    return None
                return file.read(max_bytes + 1)[:max_bytes]
    except OSError:
        return None


def list_plain_files(folder: Path) -> list[FileInfo]:
    """Regular files with allowed names directly in ``folder`` (symlinks left out), by name;
    nothing when ``folder`` is missing or is itself a symlink."""
    try:
        with _folder(folder) as dir_fd:
            found = []
            for name in sorted(os.listdir(dir_fd)):
                if name_problem(name) is not None:
                    continue
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if stat.S_ISREG(info.st_mode):
                    found.append(file_info(name, info))
            return found
    except OSError:
        return []


def file_info(name: str, info: os.stat_result) -> FileInfo:
    return FileInfo(
        name=name,
        size=info.st_size,
        file_ext=name.rsplit(".", 1)[-1] if "." in name else "",
        updated_at=datetime.fromtimestamp(info.st_mtime, UTC),
    )


class UploadStorage:
    """Every tenant's uploads under ``home`` (``LANTERNA_HOME``), with size caps."""

    def __init__(self, home: Path, *, max_file_bytes: int, max_tenant_bytes: int, max_files: int) -> None:
        self.home = home
        self.max_file_bytes = max_file_bytes
        self.max_tenant_bytes = max_tenant_bytes
        self.max_files = max_files
        self._locks: dict[str, asyncio.Lock] = {}

    def folder(self, tenant: str) -> Path:
        """The tenant's uploads folder (it may not exist yet)."""
        return uploads_folder(self.home, tenant)

    def _ensure(self, tenant: str) -> Path:
        folder = self.folder(tenant)
        folder.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for part in (folder.parent, folder):
            with contextlib.suppress(FileExistsError):
                part.mkdir(mode=0o700)
        return folder

    def list(self, tenant: str) -> list[FileInfo]:
        """The tenant's files, by name (symlinks and anything not a regular file left out)."""
        return list_plain_files(self.folder(tenant))

    async def save(self, tenant: str, name: str, chunks: AsyncIterator[bytes]) -> FileInfo:
        """Store ``chunks`` as ``name`` (replacing a file of that name) within the caps.

        ``InvalidRequestError`` for a bad name, ``PayloadTooLargeError`` over a cap.
        """
        problem = name_problem(name)
        if problem:
            raise InvalidRequestError(problem)
        lock = self._locks.setdefault(tenant, asyncio.Lock())
        async with lock:  # one upload per tenant at a time, so the tenant cap holds
            others = [f for f in self.list(tenant) if f.name != name]
            if len(others) >= self.max_files:
                raise PayloadTooLargeError(
                    f"you already store {len(others)} files, the most allowed; "
                    "replace one by uploading under its name"
                )
            left = self.max_tenant_bytes - sum(f.size for f in others)
            no_room = (
                f"the file does not fit: your uploads may total {size_text(self.max_tenant_bytes)} "
                f"and {size_text(max(left, 0))} are left; replace or re-use a file"
            )
            return await write_plain_file(
                self._ensure(tenant),
                name,
                chunks,
                max_bytes=self.max_file_bytes,
                too_large=self.file_too_large(),
                room=left,
                no_room=no_room,
            )

    def file_too_large(self) -> str:
        return f"the file is larger than {size_text(self.max_file_bytes)}, the most one upload may be"


async def write_plain_file(
    folder: Path,
    name: str,
    chunks: AsyncIterator[bytes],
    *,
    max_bytes: int,
    too_large: str,
    room: int,
    no_room: str,
) -> FileInfo:
    """Write ``chunks`` as the file ``name`` directly in ``folder`` (replacing one of that name).

    Through a temporary file and a rename inside the folder opened with ``O_NOFOLLOW``, mode 0600.
    As soon as the content passes ``max_bytes`` (one file's cap), ``PayloadTooLargeError(too_large)``;
    past ``room`` (what is left of a total), ``PayloadTooLargeError(no_room)``; nothing is kept.
    """
    with _folder(folder) as dir_fd:
        temp = _TEMP_PREFIX + secrets.token_hex(8)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        fd = os.open(temp, flags, 0o600, dir_fd=dir_fd)
        try:
            size = 0
            with os.fdopen(fd, "wb") as file:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLargeError(too_large)
                    if size > room:
                        raise PayloadTooLargeError(no_room)
                    file.write(chunk)
            # rename() replaces a symlink of that name itself; it never writes through it.
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=dir_fd)
            raise
        return file_info(name, os.stat(name, dir_fd=dir_fd, follow_symlinks=False))


def size_text(size: int) -> str:
    """``size`` as a person reads it in a message: MiB from 1 MiB, else bytes."""
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size} bytes"
