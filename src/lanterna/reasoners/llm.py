"""The LLM reasoner: asks a chat model for the next action and re-asks when the reply is unusable.

Routing lives in ``providers``, the messages in ``prompts``, the HTTP call in ``chat``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from lanterna.config import Settings
from lanterna.models.observation import Observation
from lanterna.reasoners.base import Decision, ReasonerError, ReasonerInput
from lanterna.reasoners.chat import REQUEST_TIMEOUT_S, ChatClient
from lanterna.reasoners.parsing import describe_error, parse_decision
from lanterna.reasoners.prompts import build_messages
from lanterna.reasoners.providers import resolve_endpoint

MAX_OUTPUT_RETRIES = 2  # re-asks after unusable output


def unknown_ids(decision: Decision, observation: Observation) -> str | None:
    """What to tell the model when its action names an element id the page does not have; else None."""
    element_id: str | None = getattr(decision.action, "id", None)
    drop_id: str | None = getattr(decision.action, "target_id", None)  # drag's destination
    if drop_id is not None and observation.element(drop_id) is None:
        element_id = drop_id
    elif element_id is None or getattr(decision.action, "selector", None) is not None:
        return None
    if observation.element(element_id) is not None:
        return None
    known = ", ".join(e.id for e in observation.elements[:60]) or "none"
    return (
        f"there is no element with id {element_id!r} on the current page; "
        f"use one of the ids listed on the page ({known}) or a selector"
    )


class LlmReasoner:
    """Chooses actions with a chat model. Raises ``ReasonerError`` with a clear message on failure."""

    def __init__(self, model: str, settings: Settings, *, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.model = model
        self.endpoint = resolve_endpoint(model, settings)
        self.chat = ChatClient(
            model, self.endpoint, max_retries=settings.llm_max_retries, timeout_s=timeout_s
        )

    async def decide(self, input: ReasonerInput) -> Decision:
        messages: list[dict[str, Any]] = build_messages(input)
        problem = ""
        for _ in range(1 + MAX_OUTPUT_RETRIES):
            content = await self.chat.complete(messages)
            try:
                decision = parse_decision(content)
            except (ValueError, ValidationError) as exc:
                problem = describe_error(exc)
            else:
                unknown = unknown_ids(decision, input.observation)
                if unknown is None:
                    return decision
                problem = unknown
            messages = [
                *messages,
                {"role": "assistant", "content": content},
                {
                    "role": "user",
                    "content": f"That reply cannot be used: {problem}. "
                    'Reply again with one JSON object {"state": {...}, "action": {...}} only.',
                },
            ]
        raise ReasonerError(
            f"model {self.model!r} gave no usable action after {1 + MAX_OUTPUT_RETRIES} attempts; "
            f"last problem: {problem}"
        )
