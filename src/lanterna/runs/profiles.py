"""Persistent profiles: create, list, delete, and start sessions from their saved state.

A session started with ``profile={"id": ..}`` begins with the profile's saved cookies,
localStorage and IndexedDB. With ``persist: true`` the session's state is saved back when it
ends, however it ends (stop, idle timeout, max duration, server shutdown). Only one live session
may persist into a profile at a time: a second ``persist`` session is refused with a 409 that
names the first. Sessions without ``persist`` only read the profile, any number at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from lanterna.browser import BrowserSession
from lanterna.errors import ConflictError, NotFoundError
from lanterna.models.profiles import PROFILE_ID, Profile, SessionProfile
from lanterna.store import Store
from lanterna.store.profiles import ProfileStates

log = logging.getLogger(__name__)


def _not_found(profile_id: str) -> NotFoundError:
    return NotFoundError(f"profile '{profile_id}' not found; create one with POST /profiles/create")


def _domains(state: dict[str, Any]) -> list[str]:
    found = {str(c.get("domain", "")).lstrip(".") for c in state.get("cookies", [])}
    found |= {urlsplit(str(o.get("origin", ""))).hostname or "" for o in state.get("origins", [])}
    return sorted(d for d in found if d)


class ProfileService:
    """Profiles of every tenant, and which live session persists into each."""

    def __init__(self, store: Store, states: ProfileStates) -> None:
        self._store = store
        self._states = states
        self._writers: dict[tuple[str, str], str] = {}  # (tenant, profile) -> persisting session id

    async def create(self, tenant: str, name: str | None) -> Profile:
        return await self._store.profiles.create(tenant, name)

    async def get(self, tenant: str, profile_id: str) -> Profile:
        """The tenant's profile. ``NotFoundError`` for an unknown id or another tenant's."""
        profile = (
            await self._store.profiles.get(tenant, profile_id) if PROFILE_ID.fullmatch(profile_id) else None
        )
        if profile is None:
            raise _not_found(profile_id)
        return profile

    async def list(
        self, tenant: str, *, name: str | None, page: int, page_size: int
    ) -> tuple[list[Profile], int]:
        return await self._store.profiles.list(tenant, name=name, page=page, page_size=page_size)

    async def delete(self, tenant: str, profile_id: str) -> None:
        await self.get(tenant, profile_id)
        writer = self._writers.get((tenant, profile_id))
        if writer is not None:
            raise ConflictError(
                f"profile '{profile_id}' is in use by session '{writer}', which saves into it; stop it first"
            )
        await self._store.profiles.delete(tenant, profile_id)
        await asyncio.to_thread(self._states.delete, tenant, profile_id)

    async def check_can_start(self, tenant: str, profile: SessionProfile) -> None:
        """Refuse a session on an unknown profile (404) or a second persisting one (409)."""
        await self.get(tenant, profile.id)
        writer = self._writers.get((tenant, profile.id))
        if profile.persist and writer is not None:
            raise ConflictError(
                f"session '{writer}' already saves into profile '{profile.id}'; stop it first, "
                "or start this session with persist=false to only read the profile"
            )

    async def attach(self, tenant: str, profile: SessionProfile, browser: BrowserSession) -> None:
        """Load the profile's state into ``browser``; with ``persist``, save it back at release."""
        writer_key = (tenant, profile.id)
        if profile.persist:
            if writer_key in self._writers:  # another start won the race since check_can_start
                await self.check_can_start(tenant, profile)
            self._writers[writer_key] = browser.id
        state = await asyncio.to_thread(self._states.load, tenant, profile.id)
        if state is not None:
            await browser.context.set_storage_state(state)  # type: ignore[arg-type]
        if profile.persist:
            browser.before_release.append(lambda b: self._save(tenant, profile.id, b))

    def detach(self, tenant: str, profile: SessionProfile, session_id: str) -> None:
        """Forget ``session_id`` as the profile's writer (its start failed, or it ended)."""
        if self._writers.get((tenant, profile.id)) == session_id:
            del self._writers[(tenant, profile.id)]

    async def _save(self, tenant: str, profile_id: str, browser: BrowserSession) -> None:
        try:
            if not browser.browser.is_connected():
                log.warning(
                    "session %s ended with its browser gone: profile %s not saved", browser.id, profile_id
                )
                return
            state: dict[str, Any] = dict(await browser.context.storage_state(indexed_db=True))
            if await self._store.profiles.get(tenant, profile_id) is None:
                return  # deleted meanwhile
            await asyncio.to_thread(self._states.save, tenant, profile_id, state)
            await self._store.profiles.saved(tenant, profile_id, _domains(state))
        finally:
            if self._writers.get((tenant, profile_id)) == browser.id:
                del self._writers[(tenant, profile_id)]
