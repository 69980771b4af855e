"""Ordering a page's actions by relevance to instructions: a chat model when configured, else keywords."""

from __future__ import annotations

import re

import json_repair

from lanterna.config import Settings
from lanterna.models.observation import InteractiveElement
from lanterna.reasoners.base import ReasonerError
from lanterna.reasoners.chat import ChatClient
from lanterna.reasoners.providers import resolve_endpoint

MAX_RANKED = 300  # elements shown to the model
_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "a", "an", "to", "of", "on", "in", "and", "or", "for", "i", "want", "me", "my", "it", "with"}


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _score(element: InteractiveElement, asked: set[str]) -> float:
    label = _words(f"{element.name} {element.value or ''}")
    hits = len(asked & label)
    # Prefix matches ("subscribe" ~ "subscription") count half.
    partial = sum(
        1 for a in asked - label for w in label if len(a) > 3 and (w.startswith(a[:5]) or a.startswith(w[:5]))
    )
    role = 0.5 if asked & _words(element.role) else 0.0
    return hits + 0.5 * min(partial, 2) + role


def rank_by_keywords(elements: list[InteractiveElement], instructions: str) -> list[InteractiveElement]:
    """``elements`` with those whose label shares words with ``instructions`` first (stable otherwise)."""
    asked = _words(instructions)
    if not asked:
        return list(elements)
    scored = [(_score(e, asked), i, e) for i, e in enumerate(elements)]
    return [e for _, _, e in sorted(scored, key=lambda t: (-t[0], t[1]))]


class LlmRanker:
    """Asks a chat model which of the page's elements serve the instructions, most relevant first."""

    def __init__(self, model: str, settings: Settings) -> None:
        self.chat = ChatClient(model, resolve_endpoint(model, settings), max_retries=settings.llm_max_retries)

    async def rank(self, elements: list[InteractiveElement], instructions: str) -> list[InteractiveElement]:
        """Model's order first, then the rest by keywords; a failing model falls back to keywords."""
        shown = elements[:MAX_RANKED]
        listing = "\n".join(f'[{e.id}] {e.role} "{e.name[:120]}"' for e in shown)
        messages = [
            {
                "role": "system",
                "content": "You rank a web page's interactive elements by how useful they are for the "
                'user\'s instructions. Reply with one JSON object {"ids": ["B1", ...]}, most relevant first.',
            },
            {"role": "user", "content": f"Instructions: {instructions}\n\nElements:\n{listing}"},
        ]
        try:
            reply = json_repair.loads(await self.chat.complete(messages))
        except ReasonerError:
            return rank_by_keywords(elements, instructions)
        ids = reply.get("ids") if isinstance(reply, dict) else reply
        by_id = {e.id: e for e in elements}
        first = [
            by_id[i]
            for i in dict.fromkeys(ids if isinstance(ids, list) else [])
            if isinstance(i, str) and i in by_id
        ]
        chosen = {e.id for e in first}
        rest = rank_by_keywords([e for e in elements if e.id not in chosen], instructions)
        return first + rest
