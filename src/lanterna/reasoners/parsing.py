"""Turning a model's text reply into a ``Decision``, repairing the usual slips on the way."""

from __future__ import annotations

import json
import re
from typing import Any

from lanterna.models.agent import ReasonerState
from lanterna.reasoners.base import Decision

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


def extract_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in ``text``: bare, inside a code fence, or embedded in prose.

    Raises ``ValueError`` when there is none.
    """
    candidates = [text.strip(), *(m.strip() for m in _FENCE.findall(text))]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("the reply contains no JSON object; send exactly one JSON object")


def parse_decision(text: str) -> Decision:
    """Validate a reply as ``{"state": {...}, "action": {...}}``.

    Tolerated: a bare action object without state, an action given as a one-item list, and
    missing or extra state keys. Raises ``ValueError`` or ``pydantic.ValidationError`` otherwise.
    """
    data = extract_json_object(text)
    if "action" not in data and "type" in data:
        data = {"action": data}
    action = data.get("action")
    if isinstance(action, list):
        if len(action) != 1:
            raise ValueError(f"'action' must be one object, got a list of {len(action)}")
        action = action[0]
    if action is None:
        raise ValueError("the reply has no 'action' object")
    state = data.get("state")
    if not isinstance(state, dict):
        state = {}
    known = {k: v for k, v in state.items() if k in ReasonerState.model_fields}
    if known.get("previous_goal_status") not in (None, "success", "failure", "unknown"):
        known["previous_goal_status"] = "unknown"
    interactions = known.get("relevant_interactions")
    if isinstance(interactions, list):
        known["relevant_interactions"] = [{"id": i} if isinstance(i, str) else i for i in interactions]
    for key in ("previous_goal_eval", "page_summary", "memory", "next_goal"):
        if key in known and not isinstance(known[key], str):
            known[key] = json.dumps(known[key])
    return Decision.model_validate({"state": known, "action": action})
