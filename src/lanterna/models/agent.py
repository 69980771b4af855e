"""Shapes of an agent run: the reasoner's state, steps, and the final state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from lanterna.models.actions import Action
from lanterna.models.scrape import DataSpace


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


class AgentOutcome(BaseModel):
    """How a run ended."""

    state: AgentState
    success: bool
    answer: str
