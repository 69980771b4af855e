"""Browser sessions as the runs layer takes and reports them (the server maps its bodies to these)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from lanterna.models.profiles import SessionProfile
from lanterna.models.status import SessionStatus
from lanterna.models.time import UtcDateTime

ScreenshotType = Literal["raw", "full", "last_action"]


class SessionRequest(BaseModel):
    """Options of a new session that lanterna honours; persisted as the session's options."""

    headless: bool = True
    browser_type: str = "chromium"
    max_duration_minutes: int = 15
    idle_timeout_minutes: int = 3
    screenshot_type: ScreenshotType = "last_action"
    user_agent: str | None = None
    chrome_args: list[str] | None = None
    viewport_width: int | None = None
    viewport_height: int | None = None
    profile: SessionProfile | None = None
    recording: bool = True

    def problems(self) -> list[str]:
        """Combinations of options that cannot work together, each with what to change."""
        problems = []
        if self.idle_timeout_minutes > self.max_duration_minutes:
            problems.append("idle_timeout_minutes must not exceed max_duration_minutes")
        if (self.viewport_width is None) != (self.viewport_height is None):
            problems.append("viewport_width and viewport_height must be given together")
        return problems


class SessionInfo(BaseModel):
    """One session as the runs layer reports it."""

    session_id: str
    status: SessionStatus
    idle_timeout_minutes: int
    max_duration_minutes: int
    created_at: UtcDateTime
    last_accessed_at: UtcDateTime
    closed_at: UtcDateTime | None = None
    error: str | None = None
    headless: bool = True
    browser_type: str = "chromium"
    user_agent: str | None = None
    viewport_width: int | None = None
    viewport_height: int | None = None
