"""Choosing a reasoner from a model string: ``offline``, ``scripted`` or ``provider/model``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from lanterna.config import Settings
from lanterna.errors import InvalidRequestError, validation_details
from lanterna.models.actions import Action
from lanterna.reasoners.base import Reasoner
from lanterna.reasoners.llm import LlmReasoner
from lanterna.reasoners.offline import OfflineReasoner
from lanterna.reasoners.scripted import ScriptedReasoner

SCRIPTED_PREFIX = "scripted:"


def resolve_model(requested: str | None, settings: Settings) -> str:
    """The model that runs: ``LANTERNA_MODEL_OVERRIDE``, else the requested one, else ``LANTERNA_MODEL``.

    The override maps model names (clients such as notte's always send one); an explicit
    ``scripted:[...]`` replay is not a model and is kept, since it only runs browser actions the
    caller could execute on the session directly.
    """
    if requested and requested.startswith(SCRIPTED_PREFIX):
        return requested
    return settings.model_override or requested or settings.model


def create_reasoner(
    model: str | None,
    settings: Settings,
    *,
    actions: Sequence[Action | dict[str, Any]] | None = None,
) -> Reasoner:
    """A reasoner for ``model`` (after ``resolve_model``).

    ``scripted`` replays ``actions``; ``scripted:[{...}, ...]`` carries them inline as JSON, which
    lets a test drive a remote agent. Raises ``InvalidRequestError`` for an unusable model string.
    """
    name = resolve_model(model, settings)
    if name == "offline":
        return OfflineReasoner()
    if name == "scripted" or name.startswith(SCRIPTED_PREFIX):
        if name.startswith(SCRIPTED_PREFIX):
            try:
                actions = json.loads(name[len(SCRIPTED_PREFIX) :])
            except json.JSONDecodeError as exc:
                raise InvalidRequestError(
                    f"'scripted:' must be followed by a JSON list of actions: {exc}"
                ) from exc
            if not isinstance(actions, list):
                raise InvalidRequestError("'scripted:' must be followed by a JSON list of actions")
        if actions is None:
            raise InvalidRequestError("the scripted reasoner needs a list of actions to replay")
        try:
            return ScriptedReasoner(actions)
        except ValidationError as exc:
            raise InvalidRequestError(f"invalid scripted action: {validation_details(exc, limit=1)}") from exc
    if "/" in name:
        return LlmReasoner(name, settings)
    raise InvalidRequestError(
        f"unknown model {name!r}: use 'offline', 'provider/model' (e.g. 'openai/gpt-4o-mini'), "
        "or set LANTERNA_LLM_BASE_URL for another OpenAI-compatible endpoint"
    )
