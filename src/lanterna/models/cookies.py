"""Browser cookies as users import and export them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lanterna.models.actions import Name, Text, Url


class Cookie(BaseModel):
    """A browser cookie in the shape browser extensions export (and notte's client sends)."""

    model_config = ConfigDict(extra="ignore")

    name: Text
    value: Text
    domain: Name
    path: Url = "/"
    httpOnly: bool = False
    secure: bool | None = None
    sameSite: Literal["Lax", "None", "Strict"] | None = None
    expires: float | None = Field(default=None, allow_inf_nan=False)  # unix s; -1 or null: session
    expirationDate: float | None = Field(default=None, allow_inf_nan=False)  # the extensions' name
    session: bool | None = None
    hostOnly: bool | None = None
    storeId: Name | None = None
    partitionKey: Url | None = None
