"""One chat completion against an OpenAI-compatible endpoint, with the client's own bounded retries."""

from __future__ import annotations

from typing import Any

import openai

from lanterna.reasoners.base import ReasonerError
from lanterna.reasoners.providers import Endpoint

REQUEST_TIMEOUT_S = 120.0


class ChatClient:
    """Sends chat messages to ``endpoint``; every failure is a ``ReasonerError`` that says what to check.

    429, 5xx and connection errors are retried by the ``openai`` client (``max_retries``, honouring
    ``Retry-After``); other refusals fail at once.
    """

    def __init__(
        self, model: str, endpoint: Endpoint, *, max_retries: int = 3, timeout_s: float = REQUEST_TIMEOUT_S
    ) -> None:
        self.model = model
        self.endpoint = endpoint
        self._max_retries = max_retries
        self._timeout_s = timeout_s
        self._client: openai.AsyncOpenAI | None = None

    def _chat_client(self) -> openai.AsyncOpenAI:
        if self.endpoint.missing_key or self.endpoint.api_key is None:
            raise ReasonerError(
                f"model {self.model!r} needs an API key: set {self.endpoint.missing_key} "
                "(or choose another model with LANTERNA_MODEL, e.g. LANTERNA_MODEL=offline)"
            )
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self.endpoint.api_key.get_secret_value(),
                base_url=self.endpoint.base_url,
                max_retries=self._max_retries,
                timeout=self._timeout_s,
            )
        return self._client

    async def complete(self, messages: list[dict[str, Any]]) -> str:
        """The text of the model's reply to ``messages``."""
        client = self._chat_client()
        where = f"{self.model!r} at {self.endpoint.base_url}"
        try:
            response = await client.chat.completions.create(
                model=self.endpoint.model,
                messages=messages,  # type: ignore[arg-type]
            )
        except openai.APIStatusError as exc:
            raise ReasonerError(_status_message(exc, where, self.endpoint)) from exc
        except openai.APIConnectionError as exc:
            raise ReasonerError(f"could not reach {where}: {exc.message}") from exc
        if not response.choices:
            raise ReasonerError(f"{where} returned no choices")
        return response.choices[0].message.content or ""


def _status_message(exc: openai.APIStatusError, where: str, endpoint: Endpoint) -> str:
    detail = exc.message
    if exc.status_code in (401, 403):
        return (
            f"{where} refused the API key (HTTP {exc.status_code}): {detail}. "
            "Check the key variable for this provider (or LANTERNA_LLM_API_KEY)."
        )
    if exc.status_code == 404:
        return f"{where} does not know model {endpoint.model!r} (HTTP 404): {detail}"
    if exc.status_code == 429:
        return f"{where} is rate limiting requests (HTTP 429) and retries did not help: {detail}"
    if exc.status_code >= 500:
        return f"{where} failed (HTTP {exc.status_code}) and retries did not help: {detail}"
    return f"{where} refused the request (HTTP {exc.status_code}): {detail}"
