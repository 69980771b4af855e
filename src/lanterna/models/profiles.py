"""Persistent browser profiles: a tenant's saved browser state, which sessions start from."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from lanterna.models.time import UtcDateTime

# notte's format: ``notte-profile-`` and 16 hex digits. Only such ids ever reach a path.
PROFILE_ID = re.compile(r"notte-profile-[0-9a-f]{16}")
ProfileId = Annotated[str, Field(min_length=1, max_length=64)]


class SessionProfile(BaseModel):
    """The profile a session starts from; with ``persist`` its state is saved back when it ends."""

    model_config = ConfigDict(extra="forbid")

    id: ProfileId
    persist: bool = False


class Profile(BaseModel):
    """One saved profile of a tenant. ``persisted_domains``: where its saved cookies and storage are from."""

    profile_id: str
    tenant: str
    name: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    persisted_domains: list[str] = Field(default_factory=list)
