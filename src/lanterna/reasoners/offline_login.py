"""The offline reasoner's login: on a page with a password field and a vault login for its
site, fill the username (or email), the password and a one-time code with their placeholders,
then press the sign-in button. Placeholders only: the secrets are put in when the action runs."""

from __future__ import annotations

import re

from lanterna.models.actions import Action, Click, Fill, MultiFactorFill
from lanterna.models.observation import InteractiveElement
from lanterna.reasoners.base import ReasonerInput

LOGIN_TASK = re.compile(r"\b(log ?in|sign ?in|authenticate)\b", re.IGNORECASE)
_FIELDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("password", re.compile(r"pass ?word|passwd", re.IGNORECASE)),
    ("mfa_secret", re.compile(r"one.time|otp|2fa|verification|\bcode\b", re.IGNORECASE)),
    ("email", re.compile(r"e-?mail", re.IGNORECASE)),
    ("username", re.compile(r"user|login", re.IGNORECASE)),
)
_SUBMIT = re.compile(r"\b(log ?in|sign ?in|submit|continue)\b", re.IGNORECASE)


def _kind(element: InteractiveElement) -> str | None:
    if element.action_type != "fill":
        return None
    return next((kind for kind, pattern in _FIELDS if pattern.search(element.name)), None)


def login_action(input: ReasonerInput) -> tuple[Action, str] | None:
    """The next login action and its goal, or None when there is nothing (more) to do here."""
    secrets = input.vault_placeholders
    if "password" not in secrets or not LOGIN_TASK.search(input.task):
        return None
    elements = input.observation.elements
    done = {step.action.wire().get("value") for step in input.history if step.success}
    if not any(_kind(e) == "password" for e in elements):
        return None
    for element in elements:
        kind = _kind(element)
        placeholder = secrets.get(kind or "")
        if kind is None or placeholder is None or placeholder in done:
            continue
        if kind == "mfa_secret":
            return MultiFactorFill(id=element.id, value=placeholder), "fill in the one-time code"
        return Fill(id=element.id, value=placeholder), f"fill in the {kind.replace('_', ' ')}"
    if any(step.action.type == "click" for step in input.history[-1:]):
        return None  # pressed already: let the reasoner judge the page it led to
    button = next((e for e in elements if e.role == "button" and _SUBMIT.search(e.name)), None)
    return (Click(id=button.id), "sign in") if button is not None else None
