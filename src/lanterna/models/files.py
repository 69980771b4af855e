"""Files in a tenant's upload storage."""

from __future__ import annotations

from pydantic import BaseModel

from lanterna.models.time import UtcDateTime


class FileInfo(BaseModel):
    """One file in a tenant's upload storage (notte's ``FileInfo``)."""

    name: str
    size: int
    file_ext: str
    updated_at: UtcDateTime | None = None
