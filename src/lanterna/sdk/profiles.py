"""``client.profiles``: persistent profiles, the saved browser state a session can start from.

Start a session from one with ``client.Session(profile={"id": profile.profile_id, "persist": True})``.
"""

from __future__ import annotations

from lanterna.sdk.api import Context
from lanterna.wire import ProfileResponse


class AsyncProfilesApi:
    """Create, list, read and delete your profiles (awaited)."""

    def __init__(self, context: Context) -> None:
        self._api = context.api

    async def create(self, name: str | None = None) -> ProfileResponse:
        """A new, empty profile (``name`` is for you; it need not be unique)."""
        return await self._api.create_profile(name)

    async def get(self, profile_id: str) -> ProfileResponse:
        return await self._api.profile(profile_id)

    async def list(
        self, *, name: str | None = None, page: int = 1, page_size: int = 20
    ) -> list[ProfileResponse]:
        """Your profiles, newest first (``name`` keeps those of that name)."""
        return await self._api.list_profiles(name=name, page=page, page_size=page_size)

    async def delete(self, profile_id: str) -> bool:
        """Delete the profile and its saved state; ``True`` once done."""
        return await self._api.delete_profile(profile_id)


class ProfilesApi:
    """Create, list, read and delete your profiles."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._core = AsyncProfilesApi(context)

    def create(self, name: str | None = None) -> ProfileResponse:
        """A new, empty profile (``name`` is for you; it need not be unique)."""
        return self._context.block(self._core.create(name))

    def get(self, profile_id: str) -> ProfileResponse:
        return self._context.block(self._core.get(profile_id))

    def list(self, *, name: str | None = None, page: int = 1, page_size: int = 20) -> list[ProfileResponse]:
        """Your profiles, newest first (``name`` keeps those of that name)."""
        return self._context.block(self._core.list(name=name, page=page, page_size=page_size))

    def delete(self, profile_id: str) -> bool:
        """Delete the profile and its saved state; ``True`` once done."""
        return self._context.block(self._core.delete(profile_id))
