"""The LLM reasoner: asks a model behind an OpenAI-compatible chat API for the next action.

A model string ``provider/model`` picks the endpoint and the environment variable holding the
key; ``LANTERNA_LLM_BASE_URL`` (with ``LANTERNA_LLM_API_KEY``) points any model at another endpoint.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import openai
from pydantic import ValidationError

from lanterna.config import Settings
from lanterna.errors import InvalidRequestError
from lanterna.models.actions import ACTION_ADAPTER
from lanterna.models.agent import AgentStep
from lanterna.models.observation import Observation
from lanterna.reasoners.base import Decision, ReasonerError, ReasonerInput
from lanterna.reasoners.parsing import parse_decision

MAX_OUTPUT_RETRIES = 2  # re-asks after unusable output
MAX_PROVIDER_RETRIES = 3  # re-sends after 429 / 5xx / connection errors
MAX_RETRY_AFTER_S = 20.0  # a longer Retry-After is not worth waiting for inside an agent step
MAX_OBSERVATION_CHARS = 40_000
HISTORY_STEPS = 12
REQUEST_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Provider:
    base_url: str | None  # None: read from base_url_env
    key_env: str | None  # None: no key needed
    base_url_env: str | None = None


PROVIDERS: dict[str, Provider] = {
    "openai": Provider("https://api.openai.com/v1", "OPENAI_API_KEY"),
    "anthropic": Provider("https://api.anthropic.com/v1/", "ANTHROPIC_API_KEY"),
    "gemini": Provider("https://generativelanguage.googleapis.com/v1beta/openai/", "GEMINI_API_KEY"),
    "groq": Provider("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "openrouter": Provider("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "ollama": Provider("http://127.0.0.1:11434/v1", None),
    "vllm": Provider(None, None, base_url_env="VLLM_BASE_URL"),
}

# Local servers ignore the key, but the client library insists on one.
_NO_KEY = "not-needed"


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    api_key: str | None  # None: the key variable named in missing_key is not set
    model: str
    missing_key: str | None = None


def resolve_endpoint(model: str, settings: Settings) -> Endpoint:
    """Base URL, key and bare model name for ``provider/model``.

    Raises ``InvalidRequestError`` for a model string no endpoint can serve.
    """
    provider_name, sep, name = model.partition("/")
    if not sep or not name:
        raise InvalidRequestError(
            f"model {model!r} is not 'provider/model' (e.g. 'openai/gpt-4o-mini'), 'offline' or 'scripted'"
        )
    provider = PROVIDERS.get(provider_name)
    override_key = os.environ.get("LANTERNA_LLM_API_KEY")
    if settings.llm_base_url:
        key_env = provider.key_env if provider else None
        key = override_key or (os.environ.get(key_env) if key_env else None) or _NO_KEY
        return Endpoint(settings.llm_base_url, key, name)
    if provider is None:
        known = ", ".join(f"{p}/" for p in PROVIDERS)
        raise InvalidRequestError(
            f"unknown model provider {provider_name!r}: use one of {known} "
            "or set LANTERNA_LLM_BASE_URL to an OpenAI-compatible endpoint"
        )
    base_url = provider.base_url
    if base_url is None and provider.base_url_env:
        base_url = os.environ.get(provider.base_url_env)
        if not base_url:
            raise InvalidRequestError(
                f"model {model!r} needs {provider.base_url_env} (e.g. http://127.0.0.1:8001/v1)"
            )
    assert base_url is not None
    if provider.key_env is None:
        return Endpoint(base_url, override_key or _NO_KEY, name)
    api_key = os.environ.get(provider.key_env) or override_key
    return Endpoint(base_url, api_key, name, missing_key=None if api_key else provider.key_env)


@lru_cache(maxsize=1)
def action_schema() -> str:
    """The action vocabulary as a compact JSON schema (titles and null branches dropped)."""

    def simplify(node: Any) -> Any:
        if isinstance(node, dict):
            any_of = node.get("anyOf")
            if isinstance(any_of, list) and len(any_of) == 2 and {"type": "null"} in any_of:
                rest = dict(node)
                rest.pop("anyOf")
                rest.pop("default", None)
                kept = next(b for b in any_of if b != {"type": "null"})
                return simplify({**rest, **kept})
            return {k: simplify(v) for k, v in node.items() if k != "title"}
        if isinstance(node, list):
            return [simplify(v) for v in node]
        return node

    return json.dumps(simplify(ACTION_ADAPTER.json_schema()), separators=(",", ":"))


SYSTEM_PROMPT = """You control a web browser to complete a task for a user.
Each turn you see the task, the steps taken so far and the current page. The page lists
interactive elements as [ID] role "name" (ids: L links, B buttons, I inputs, O options,
F images, M other). Choose exactly ONE next action.

Reply with ONE JSON object and nothing else:
{"state": {"previous_goal_status": "success" | "failure" | "unknown",
           "previous_goal_eval": "did the last action achieve its goal, and why",
           "page_summary": "what the current page shows",
           "relevant_interactions": [{"id": "B1", "reason": "why it matters"}],
           "memory": "facts gathered so far that the answer needs",
           "next_goal": "what the next action should achieve"},
 "action": {"type": "...", ...}}

Rules:
- Address elements by the "id" shown on the current page (ids change between pages), or by "selector".
- When the task is done, or cannot be done, use {"type": "completion", "success": true|false,
  "answer": "..."}; the answer must contain what the user asked for.
- Do not repeat an action that just failed; try something else.
- Beyond click and fill: "hover" opens menus and tooltips; "drag" moves an element onto another
  ("target" selector or "target_id") or by "offset" {"x","y"} px; "select_text" selects an element's
  text or a phrase in it ("text"); "type_text" types key by key (terminals, editors, fields that
  ignore fill); click takes "position" {"x","y"} from the element's top-left (or in the viewport
  without an element), "click_count" 2 or 3, "modifiers" ["Shift"], and "force": true when the
  result says another element covers the target; scroll_up/scroll_down with a "selector" scroll
  that element; select_dropdown_option with a list "value" selects several options.
- Send only the fields the schema lists: any other field is refused.
- The "action" object must validate against this JSON schema (a union keyed on "type"):
"""


def _history_line(index: int, step: AgentStep) -> str:
    action = json.dumps(step.action.wire(), separators=(",", ":"))
    outcome = "ok" if step.success else "FAILED"
    line = f"{index}. {action} -> {outcome}: {step.message[:300]}"
    if step.data is not None and step.data.markdown:
        line += f"\n   data: {step.data.markdown[:1000]}"
    return line


def build_messages(input: ReasonerInput) -> list[dict[str, Any]]:
    """The chat messages for one decision."""
    parts = [f"Task: {input.task}"]
    if input.url:
        parts.append(f"Start URL: {input.url}")
    parts.append(f"Step {input.step} of at most {input.max_steps}.")
    if input.response_format:
        parts.append(
            "The answer of a successful completion must be a JSON document valid against this schema:\n"
            + json.dumps(input.response_format, separators=(",", ":"))
        )
    if input.history:
        first = max(0, len(input.history) - HISTORY_STEPS)
        lines = [_history_line(i + 1, s) for i, s in enumerate(input.history) if i >= first]
        if first:
            lines.insert(0, f"({first} earlier steps omitted)")
        last = input.history[-1].state
        if last.memory:
            lines.append(f"Memory: {last.memory}")
        parts.append("Steps so far:\n" + "\n".join(lines))
    if input.feedback:
        parts.append(f"Your previous decision was not accepted: {input.feedback}")
    parts.append("Current page:\n" + _page_text(input.observation))
    text = "\n\n".join(parts)
    user: dict[str, Any]
    if input.use_vision and input.observation.screenshot:
        user = {
            "role": "user",
            "content": [
                {"type": "text", "text": text},
                {
                    "type": "image_url",
                    "image_url": {"url": f"data:image/jpeg;base64,{input.observation.screenshot}"},
                },
            ],
        }
    else:
        user = {"role": "user", "content": text}
    return [{"role": "system", "content": SYSTEM_PROMPT + action_schema()}, user]


def _page_text(observation: Observation) -> str:
    meta = observation.metadata
    text = observation.text
    if len(text) > MAX_OBSERVATION_CHARS:
        text = text[:MAX_OBSERVATION_CHARS] + "\n… (page truncated)"
    return f"URL: {meta.url}\nTitle: {meta.title}\n{text}"


def _unknown_ids(decision: Decision, observation: Observation) -> str | None:
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

    def __init__(
        self,
        model: str,
        settings: Settings,
        *,
        retry_base_delay_s: float = 1.0,
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self.model = model
        self.endpoint = resolve_endpoint(model, settings)
        self.retry_base_delay_s = retry_base_delay_s
        self._client: openai.AsyncOpenAI | None = None
        self._timeout_s = timeout_s

    def _chat_client(self) -> openai.AsyncOpenAI:
        if self.endpoint.missing_key:
            raise ReasonerError(
                f"model {self.model!r} needs an API key: set {self.endpoint.missing_key} "
                "(or choose another model with LANTERNA_MODEL, e.g. LANTERNA_MODEL=offline)"
            )
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self.endpoint.api_key,
                base_url=self.endpoint.base_url,
                max_retries=0,  # retried here, with bounds an agent step can afford
                timeout=self._timeout_s,
            )
        return self._client

    async def decide(self, input: ReasonerInput) -> Decision:
        messages = build_messages(input)
        problem = ""
        for _ in range(1 + MAX_OUTPUT_RETRIES):
            content = await self._complete(messages)
            try:
                decision = parse_decision(content)
            except (ValueError, ValidationError) as exc:
                problem = _describe(exc)
            else:
                unknown = _unknown_ids(decision, input.observation)
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

    async def _complete(self, messages: list[dict[str, Any]]) -> str:
        client = self._chat_client()
        where = f"{self.model!r} at {self.endpoint.base_url}"
        for attempt in range(MAX_PROVIDER_RETRIES + 1):
            try:
                response = await client.chat.completions.create(
                    model=self.endpoint.model,
                    messages=messages,  # type: ignore[arg-type]
                )
            except openai.APIStatusError as exc:
                retryable = exc.status_code == 429 or exc.status_code >= 500
                if not retryable or attempt == MAX_PROVIDER_RETRIES:
                    raise ReasonerError(_status_message(exc, where, self.endpoint)) from exc
                await asyncio.sleep(self._delay(attempt, exc.response.headers.get("retry-after")))
            except openai.APIConnectionError as exc:
                if attempt == MAX_PROVIDER_RETRIES:
                    raise ReasonerError(f"could not reach {where}: {exc.message}") from exc
                await asyncio.sleep(self._delay(attempt, None))
            else:
                if not response.choices:
                    raise ReasonerError(f"{where} returned no choices")
                return response.choices[0].message.content or ""
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                seconds = float(retry_after)
            except ValueError:
                seconds = -1.0
            if 0 <= seconds <= MAX_RETRY_AFTER_S:
                return seconds
        return float(self.retry_base_delay_s * 2**attempt)


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


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False)[:5]
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}" for e in errors)
    return str(exc)
