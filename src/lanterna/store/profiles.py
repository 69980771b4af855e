"""Persistent profiles: their rows, and each one's saved browser state on disk.

The state (cookies, localStorage, IndexedDB as Playwright's ``storage_state`` gives them) is a
JSON file ``LANTERNA_HOME/profiles/<tenant>/<profile id>.json`` with mode 0600 in folders of
mode 0700, written through a temporary file and a rename, read with ``O_NOFOLLOW``. Ids are
checked against ``PROFILE_ID`` before they shape a path.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanterna.models.profiles import PROFILE_ID, Profile
from lanterna.models.time import utc_now
from lanterna.store.tables import ProfileRow

_TENANT = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_STATE_BYTES = 20 * 1024 * 1024


def new_profile_id() -> str:
    return f"notte-profile-{secrets.token_hex(8)}"


def _profile(row: ProfileRow) -> Profile:
    return Profile(
        profile_id=row.id,
        tenant=row.tenant,
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        persisted_domains=list(row.persisted_domains or []),
    )


class ProfileRepository:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def create(self, tenant: str, name: str | None) -> Profile:
        now = utc_now()
        row = ProfileRow(
            id=new_profile_id(),
            tenant=tenant,
            name=name,
            created_at=now,
            updated_at=now,
            persisted_domains=[],
        )
        async with self._sessionmaker.begin() as db:
            db.add(row)
        return _profile(row)

    async def get(self, tenant: str, profile_id: str) -> Profile | None:
        """The tenant's profile; ``None`` for an unknown one or another tenant's."""
        async with self._sessionmaker() as db:
            row = await db.get(ProfileRow, profile_id)
            return _profile(row) if row is not None and row.tenant == tenant else None

    async def list(
        self, tenant: str, *, name: str | None = None, page: int = 1, page_size: int = 20
    ) -> tuple[builtins.list[Profile], int]:
        where = [ProfileRow.tenant == tenant]
        if name is not None:
            where.append(ProfileRow.name == name)
        async with self._sessionmaker() as db:
            total = await db.scalar(select(func.count()).select_from(ProfileRow).where(*where))
            rows = await db.scalars(
                select(ProfileRow)
                .where(*where)
                .order_by(ProfileRow.created_at.desc())
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
            return [_profile(r) for r in rows], int(total or 0)

    async def saved(self, tenant: str, profile_id: str, domains: builtins.list[str]) -> None:
        async with self._sessionmaker.begin() as db:
            await db.execute(
                update(ProfileRow)
                .where(ProfileRow.id == profile_id, ProfileRow.tenant == tenant)
                .values(updated_at=utc_now(), persisted_domains=domains)
            )

    async def delete(self, tenant: str, profile_id: str) -> bool:
        async with self._sessionmaker.begin() as db:
            result = await db.execute(
                delete(ProfileRow).where(ProfileRow.id == profile_id, ProfileRow.tenant == tenant)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]


class ProfileStates:
    """Saved browser states of every tenant's profiles under ``home``."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def _path(self, tenant: str, profile_id: str) -> Path:
        if not _TENANT.fullmatch(tenant) or not PROFILE_ID.fullmatch(profile_id):
            raise ValueError(f"not a tenant and profile id: {tenant!r}, {profile_id!r}")
        return self.home / "profiles" / tenant / f"{profile_id}.json"

    def load(self, tenant: str, profile_id: str) -> dict[str, Any] | None:
        """The saved state, or ``None`` if none was saved (or the file is not a plain file)."""
        path = self._path(tenant, profile_id)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as file:
            data = file.read(MAX_STATE_BYTES + 1)
        if len(data) > MAX_STATE_BYTES:
            return None
        with contextlib.suppress(ValueError):
            state = json.loads(data)
            return state if isinstance(state, dict) else None
        return None

    def save(self, tenant: str, profile_id: str, state: dict[str, Any]) -> None:
        path = self._path(tenant, profile_id)
        path.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            path.parent.mkdir(mode=0o700)
        temp = path.with_name(f".{profile_id}.{secrets.token_hex(6)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                json.dump(state, file)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def delete(self, tenant: str, profile_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(tenant, profile_id))
