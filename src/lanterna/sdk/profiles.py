"""``client.profiles``: persistent profiles, the saved browser state a session can start from.

Start a session from one with ``client.Session(profile={"id": profile.profile_id, "persist": True})``.
"""

from __future__ import annotations

from lanterna.sdk.api import Context
from lanterna.sdk.blocking import blocking
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
        self.context = context
        self.core = AsyncProfilesApi(context)

    create = blocking(AsyncProfilesApi.create)
    get = blocking(AsyncProfilesApi.get)
    list = blocking(AsyncProfilesApi.list)
    delete = blocking(AsyncProfilesApi.delete)
