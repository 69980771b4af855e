"""Plain records the repositories take and return (never live ORM objects)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, computed_field

from lanterna.models.agent import AgentState
from lanterna.models.status import AgentStatusValue, SessionStatus
from lanterna.models.time import UtcDateTime


class SessionRecord(BaseModel):
    """One browser session as persisted. ``options`` is the start request, as sent."""

    id: str
    tenant: str
    status: SessionStatus = "active"
    options: dict[str, Any] = Field(default_factory=dict)
    created_at: UtcDateTime
    last_accessed_at: UtcDateTime
    closed_at: UtcDateTime | None = None
    error: str | None = None
    offset: int = 0
    host: str | None = None  # the browser host that owns the session in a Ray cluster


class AgentRecord(BaseModel):
    """One agent run as persisted (its steps are read separately with ``AgentRepository.steps``)."""

    id: str
    tenant: str
    session_id: str
    task: str
    url: str | None = None
    reasoning_model: str | None = None
    max_steps: int
    use_vision: bool = False
    response_format: dict[str, Any] | None = None
    state: AgentState = AgentState.running
    success: bool | None = None
    answer: str | None = None
    created_at: UtcDateTime
    closed_at: UtcDateTime | None = None
    replay_start_offset: int = 0
    replay_stop_offset: int = 0

    @computed_field  # type: ignore[prop-decorator]  # stored too: listings filter on it
    @property
    def status(self) -> AgentStatusValue:
        return self.state.status


class RecordingStatus(StrEnum):
    """Where a session's recording stands."""

    recording = "recording"
    finished = "finished"
    off = "off"  # the session started with recording off
    deleted = "deleted"  # removed by the retention policy; the row stays so replay can say so


class RecordingRecord(BaseModel):
    """One session's recording as persisted; ``directory`` is relative to ``LANTERNA_HOME``."""

    session_id: str
    tenant: str
    status: RecordingStatus = RecordingStatus.recording
    directory: str
    width: int
    height: int
    frames: int = 0
    bytes: int = 0
    started_at: UtcDateTime
    ended_at: UtcDateTime | None = None


class HostStatus(StrEnum):
    alive = "alive"
    lost = "lost"


class HostRecord(BaseModel):
    """A browser host of a Ray cluster (one per node offering ``lanterna_browser`` slots)."""

    id: str
    node_id: str
    url: str
    status: HostStatus = HostStatus.alive
    started_at: UtcDateTime
    heartbeat_at: UtcDateTime
    lost_reason: str | None = None
