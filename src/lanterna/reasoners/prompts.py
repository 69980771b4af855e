"""The chat messages that ask a model for the next action: system prompt, action schema, page, history."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from lanterna.models.actions import ACTION_ADAPTER
from lanterna.models.agent import AgentStep
from lanterna.models.observation import Observation
from lanterna.reasoners.base import ReasonerInput

MAX_OBSERVATION_CHARS = 40_000
HISTORY_STEPS = 12


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
    if input.vault_placeholders:
        lines = [f"- {field}: write {placeholder}" for field, placeholder in input.vault_placeholders.items()]
        parts.append(
            "Stored secrets for this site (write the placeholder exactly as the value of a fill, "
            "form_fill or multi_factor_fill; the real value is typed for you):\n" + "\n".join(lines)
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
