"""Keeps an agent's vault secrets out of everything but the browser.

The reasoner is told placeholders (``[[vault:password]]`` …) for the secrets of the page's site.
``reveal`` swaps them for the real values in the copy of an action that runs; ``redact`` takes
every secret (and every TOTP code made for this run) out of observations, steps and answers.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import pyotp
from pydantic import BaseModel

from lanterna.models.actions import Action, parse_action
from lanterna.models.vault import AgentVault, SecretField

M = TypeVar("M", bound=BaseModel)
MFA_PLACEHOLDER = SecretField.mfa_secret.placeholder
_MIN_REDACTED = 3  # shorter values (a 2-digit month) would blank ordinary page text


class VaultGuard:
    def __init__(self, vault: AgentVault) -> None:
        self._vault = vault
        self._secrets = [s for s in vault.all_secrets() if len(s) >= _MIN_REDACTED]
        self._codes: set[str] = set()

    def placeholders(self, page_url: str) -> dict[str, str]:
        """Which secrets the page's site has, as field → placeholder (what the reasoner sees)."""
        return {field.value: field.placeholder for field in self._vault.for_page(page_url)}

    def reveal(self, action: Action, page_url: str) -> Action:
        """The action to run: placeholders replaced by the site's secrets (a TOTP code for mfa)."""
        secrets = self._vault.for_page(page_url)
        if not secrets:
            return action
        values: dict[str, str] = {f.placeholder: v for f, v in secrets.items() if f != SecretField.mfa_secret}
        mfa = secrets.get(SecretField.mfa_secret)
        if mfa is not None:
            code = pyotp.TOTP(mfa).now()
            self._codes.add(code)
            values[MFA_PLACEHOLDER] = code
        text = json.dumps(action.wire())
        if not any(p in text for p in values):
            return action
        for placeholder, value in values.items():
            text = text.replace(json.dumps(placeholder)[1:-1], json.dumps(value)[1:-1])
        return parse_action(json.loads(text))

    def redact_text(self, text: str) -> str:
        for secret in [*self._secrets, *sorted(self._codes, key=len, reverse=True)]:
            if secret in text:
                text = text.replace(secret, "[[vault:redacted]]")
        return text

    def redact(self, model: M) -> M:
        """A copy of ``model`` with no secret in any string of it."""
        dumped = model.model_dump(mode="json")
        cleaned = _walk(dumped, self.redact_text)
        return model if cleaned == dumped else type(model).model_validate(cleaned)


def _walk(value: Any, clean: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_walk(v, clean) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, clean) for k, v in value.items()}
    return value
