"""What a reasoner receives and returns, and the protocol every reasoner implements."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from lanterna.models.actions import Action
from lanterna.models.agent import AgentStep, ReasonerState
from lanterna.models.observation import Observation


class ReasonerInput(BaseModel):
    """Everything a reasoner may use to choose the next action."""

    task: str
    url: str | None = None
    step: int = Field(ge=1, description="1-based number of the step being decided")
    max_steps: int
    history: list[AgentStep] = Field(default_factory=list)
    observation: Observation
    response_format: dict[str, Any] | None = None
    feedback: str | None = Field(
        default=None, description="why the previous decision was not accepted, if it was not"
    )
    use_vision: bool = False
    vault_placeholders: dict[str, str] = Field(
        default_factory=dict,
        description="secrets the page's site has in the agent's vault, as field -> placeholder to write",
    )


class Decision(BaseModel):
    """The reasoner's state (the contract's six keys) and the one action to take next."""

    state: ReasonerState
    action: Action


class ReasonerError(Exception):
    """A reasoner cannot go on (no API key, provider down, unusable output). The run fails with it."""


@runtime_checkable
class Reasoner(Protocol):
    """Chooses the next action. Raises ``ReasonerError`` when it cannot."""

    async def decide(self, input: ReasonerInput) -> Decision: ...
