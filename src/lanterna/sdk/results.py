"""Typed results the SDK returns, and how steps read in logs."""

from __future__ import annotations

from lanterna.errors import LanternaError
from lanterna.models.actions import ExecutionResult, describe_action
from lanterna.models.agent import AgentState, AgentStep
from lanterna.models.scrape import StructuredData
from lanterna.wire import AgentStatusResponse


class AgentStatus(AgentStatusResponse):
    """An agent as the server reports it.

    ``status`` is ``"active"`` while it runs and ``"closed"`` once it ended; ``state`` says how
    (``running | completed | failed | stopped | max_steps``). ``success`` and ``answer`` are
    ``None`` while it runs. ``steps`` are typed: ``step.action``, ``step.success``,
    ``step.message``, ``step.state`` (the reasoner's goal, evaluation and memory).
    """

    @property
    def done(self) -> bool:
        return self.status == "closed"


class AgentResult(AgentStatus):
    """The final status of a finished agent: ``success``, ``answer``, ``steps``, ids."""


class ScrapeFailedError(LanternaError):
    """A structured scrape found no data that fits; ``structured.error`` says what was missing."""

    status = 200

    def __init__(self, structured: StructuredData) -> None:
        super().__init__(f"structured scrape failed: {structured.error or 'no data'}")
        self.structured = structured


class ActionFailedError(LanternaError):
    """``session.execute`` got ``success=False`` and the client was set to raise on failure.

    The request itself succeeded (HTTP 200); ``result`` holds the failed ``ExecutionResult``.
    """

    status = 200

    def __init__(self, result: ExecutionResult) -> None:
        super().__init__(f"{describe_action(result.action)} failed: {result.message}")
        self.result = result


def format_step(number: int, step: AgentStep) -> str:
    """One or two readable lines for a step, as ``watch_logs(log=True)`` prints them."""
    mark = "ok" if step.success else "failed"
    line = f"Step {number}: {describe_action(step.action)} -> {mark}: {step.message}"
    if step.state.next_goal:
        line += f"\n  next goal: {step.state.next_goal}"
    return line


def format_outcome(status: AgentStatus) -> str:
    state = status.state.value if isinstance(status.state, AgentState) else str(status.state)
    return f"Agent {status.agent_id} {state}: success={status.success} answer={status.answer!r}"
