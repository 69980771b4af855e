"""Turning a model's text reply into a ``Decision``, repairing the usual slips on the way."""

from __future__ import annotations

import json
from typing import Any

import json_repair
from pydantic import ValidationError

from lanterna.errors import validation_details
from lanterna.models.agent import ReasonerState
from lanterna.reasoners.base import Decision


def extract_json_object(text: str) -> dict[str, Any]:
    """The JSON object in ``text`` (bare, fenced or in prose), with the usual slips repaired.

    Raises ``ValueError`` when there is none.
    """
    value = json_repair.loads(text)
    if isinstance(value, list):  # prose around a fenced object comes back as several values
        value = next((v for v in value if isinstance(v, dict) and v), None)
    if not isinstance(value, dict) or not value:
        raise ValueError("the reply contains no JSON object; send exactly one JSON object")
    return value


def describe_error(exc: Exception) -> str:
    """A short account of why a reply was refused, to send back to the model."""
    if isinstance(exc, ValidationError):
        return validation_details(exc, limit=5, whole="reply")
    return str(exc)


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
