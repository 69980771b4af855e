"""A reasoner that replays a fixed list of actions, then completes. Used by tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lanterna.models.actions import Action, Completion, parse_action
from lanterna.models.agent import ReasonerState
from lanterna.reasoners.base import Decision, ReasonerInput


class ScriptedReasoner:
    """Returns ``actions`` one per step; after the last one, ``completion(success=True)``."""

    def __init__(
        self, actions: Sequence[Action | dict[str, Any]], *, answer: str = "script finished"
    ) -> None:
        self.actions: list[Action] = [parse_action(a) for a in actions]
        self.answer = answer
        self._next = 0
        self.inputs: list[ReasonerInput] = []  # what it was shown, for tests that check feedback

    async def decide(self, input: ReasonerInput) -> Decision:
        self.inputs.append(input)
        if self._next < len(self.actions):
            action = self.actions[self._next]
            self._next += 1
        else:
            action = Completion(success=True, answer=self.answer)
        return Decision(
            state=ReasonerState(
                previous_goal_status="unknown",
                page_summary=input.observation.metadata.title,
                next_goal=f"run scripted action {self._next} of {len(self.actions)}",
            ),
            action=action,
        )
