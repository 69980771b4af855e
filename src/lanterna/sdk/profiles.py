"""``client.profiles``: persistent profiles, the saved browser state a session can start from.

Start a session from one with ``client.Session(profile={"id": profile.profile_id, "persist": True})``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from lanterna.wire import Page, ProfileCreateRequest, ProfileDeleteResponse, ProfileResponse

if TYPE_CHECKING:
    from lanterna.sdk.client import Client


class ProfilesApi:
    """Create, list, read and delete your profiles."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(self, name: str | None = None) -> ProfileResponse:
        """A new, empty profile (``name`` is for you; it need not be unique)."""
        body = ProfileCreateRequest(name=name).model_dump(exclude_none=True)
        call = self._client._transport.call(ProfileResponse, "POST", "/profiles/create", json_body=body)
        return self._client._loop.run_sync(call)

    def get(self, profile_id: str) -> ProfileResponse:
        call = self._client._transport.call(ProfileResponse, "GET", f"/profiles/{quote(profile_id, safe='')}")
        return self._client._loop.run_sync(call)

    def list(self, *, name: str | None = None, page: int = 1, page_size: int = 20) -> list[ProfileResponse]:
        """Your profiles, newest first (``name`` keeps those of that name)."""
        params: dict[str, str | int] = {"page": page, "page_size": page_size}
        if name is not None:
            params["name"] = name
        call = self._client._transport.call(Page[ProfileResponse], "GET", "/profiles", params=params)
        return self._client._loop.run_sync(call).items

    def delete(self, profile_id: str) -> bool:
        """Delete the profile and its saved state; ``True`` once done."""
        target = f"/profiles/{quote(profile_id, safe='')}"
        call = self._client._transport.call(ProfileDeleteResponse, "DELETE", target)
        return self._client._loop.run_sync(call).success
