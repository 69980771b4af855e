"""API keys as the store hands them out: never the secret itself, only what identifies it."""

from __future__ import annotations

from pydantic import BaseModel

from lanterna.models.time import UtcDateTime


class ApiKeyInfo(BaseModel):
    """One API key: its id, the name it was given, the visible prefix and its lifetime."""

    key_id: str
    name: str
    prefix: str
    created_at: UtcDateTime
    revoked_at: UtcDateTime | None = None
