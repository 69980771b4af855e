"""Shapes of an agent run: the reasoner's state, steps, and the final state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from lanterna.models.actions import Action, JsonObject
from lanterna.models.scrape import DataSpace
from lanterna.models.status import AgentStatusValue
from lanterna.models.time import UtcDateTime


class RelevantInteraction(BaseModel):
    id: str
    reason: str = ""


class ReasonerState(BaseModel):
    """What the reasoner thought before choosing an action (the contract's six keys)."""

    previous_goal_status: Literal["success", "failure", "unknown"] = "unknown"
    previous_goal_eval: str = ""
    page_summary: str = ""
    relevant_interactions: list[RelevantInteraction] = Field(default_factory=list)
    memory: str = ""
    next_goal: str = ""


class AgentStep(BaseModel):
    """One observe → reason → act step, as persisted and sent over the wire."""

    state: ReasonerState
    action: Action
    success: bool
    message: str
    data: DataSpace | None = None
    started_at: datetime
    ended_at: datetime


class AgentState(StrEnum):
    """Fine-grained run state; the wire ``status`` is only active/closed."""

    running = "running"
    completed = "completed"
    failed = "failed"
    stopped = "stopped"
    max_steps = "max_steps"

    @property
    def finished(self) -> bool:
        return self is not AgentState.running

    @property
    def status(self) -> AgentStatusValue:
        """The coarse status clients see: ``active`` while running, ``closed`` once ended."""
        return "closed" if self.finished else "active"


class AgentOutcome(BaseModel):
    """How a run ended."""

    state: AgentState
    success: bool
    answer: str


class AgentRequest(BaseModel):
    """What to run: a task on one of the tenant's sessions (the server maps its request body to this)."""

    task: str
    session_id: str
    url: str | None = None
    response_format: JsonObject | None = None
    session_offset: int | None = None  # where its replay starts; the session's offset when left out
    reasoning_model: str | None = None
    use_vision: bool = False
    max_steps: int = 20


class AgentRun(BaseModel):
    """One agent run as the runs layer reports it: its request, where it stands, its steps so far."""

    agent_id: str
    session_id: str
    state: AgentState
    task: str
    url: str | None = None
    created_at: UtcDateTime
    closed_at: UtcDateTime | None = None
    success: bool | None = None
    answer: str | None = None
    steps: list[AgentStep] = Field(default_factory=list)
    replay_start_offset: int = 0
    replay_stop_offset: int = 0
    reasoning_model: str | None = None
    max_steps: int | None = None  # ``status`` (active/closed) is ``state.status``


class AgentEnded(BaseModel):
    """The last event of a run's stream: the run as it ended."""

    agent: AgentRun
