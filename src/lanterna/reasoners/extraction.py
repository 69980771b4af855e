"""Structured extraction with a chat model: page markdown + JSON schema → JSON valid against it.

A reply that is not valid JSON is repaired (``json-repair``); one that does not match the schema
is sent back once with the validation errors.
"""

from __future__ import annotations

import json
from typing import Any

import json_repair
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from lanterna.config import Settings
from lanterna.models.scrape import StructuredData
from lanterna.reasoners.base import ReasonerError
from lanterna.reasoners.chat import ChatClient
from lanterna.reasoners.providers import resolve_endpoint

MAX_PAGE_CHARS = 60_000
MAX_REASKS = 1

SYSTEM = (
    "You extract data from a web page given as markdown. Reply with ONE JSON value and nothing else. "
    "Use only what the page says; use null for a value the page does not give."
)


def _messages(markdown: str, schema: dict[str, Any] | None, instructions: str | None) -> list[dict[str, Any]]:
    page = markdown if len(markdown) <= MAX_PAGE_CHARS else markdown[:MAX_PAGE_CHARS] + "\n… (page truncated)"
    parts = []
    if instructions:
        parts.append(f"Instructions: {instructions}")
    if schema:
        parts.append(
            "The JSON must be valid against this schema:\n" + json.dumps(schema, separators=(",", ":"))
        )
    else:
        parts.append("Reply with a JSON object.")
    parts.append("Page:\n" + page)
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}]


def _problems(value: Any, validator: Draft202012Validator | None) -> list[str]:
    if validator is None:
        return [] if isinstance(value, dict | list) else ["the reply is not a JSON object"]
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))[:5]
    return [f"{'.'.join(str(p) for p in e.path) or '(root)'}: {e.message[:200]}" for e in errors]


class LlmExtractor:
    """Extracts structured data with ``model``. Failures come back as ``StructuredData(success=False)``."""

    def __init__(self, model: str, settings: Settings) -> None:
        self.chat = ChatClient(model, resolve_endpoint(model, settings), max_retries=settings.llm_max_retries)

    async def extract(
        self, markdown: str, schema: dict[str, Any] | None, instructions: str | None
    ) -> StructuredData:
        validator = None
        if schema:
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                return StructuredData(
                    success=False, error=f"response_format is not a valid JSON schema: {exc.message}"
                )
            validator = Draft202012Validator(schema)
        messages = _messages(markdown, schema, instructions)
        problems: list[str] = []
        for _ in range(1 + MAX_REASKS):
            try:
                content = await self.chat.complete(messages)
            except ReasonerError as exc:
                return StructuredData(success=False, error=str(exc))
            value = json_repair.loads(content) if content.strip() else None
            problems = _problems(value, validator)
            if not problems:
                return StructuredData(success=True, data=value)
            messages = [
                *messages,
                {"role": "assistant", "content": content},
                {
                    "role": "user",
                    "content": "That JSON does not fit: "
                    + "; ".join(problems)
                    + ". Reply again with the JSON only.",
                },
            ]
        return StructuredData(
            success=False, error="the model's JSON did not fit the schema: " + "; ".join(problems)
        )
