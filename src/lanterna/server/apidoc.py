"""Render the API reference in Markdown from the OpenAPI schema.

python -m lanterna.server.apidoc > docs/api.md
"""

from __future__ import annotations

import json
from typing import Any

from lanterna.config import Settings

INTRO = """\
# lanterna HTTP API reference

Generated from the server's OpenAPI schema by `python -m lanterna.server.apidoc > docs/api.md`.
A running server serves the same reference interactively at `/docs` (and the schema at
`/openapi.json`).

## Conventions

- **Authentication.** Every endpoint except `GET /health` needs an API key:
  `Authorization: Bearer <key>`. WebSocket URLs take it as `?token=<key>` (so do REST calls, if a
  client cannot set headers). Create keys with `lanterna keys create`; each key is a tenant and sees
  only its own sessions and agents. `lanterna serve` prints a key on its first start and also
  accepts the key in `LANTERNA_API_KEY`.
- **Errors** are JSON `{"status": <http status>, "message": "<what went wrong and what to change>"}`:

  | status | when |
  | --- | --- |
  | 401 | no key, or an unknown or revoked key |
  | 404 | unknown route, or a session/agent that does not exist *or belongs to another key* |
  | 409 | the session is closed (stopped, timed out, restarted) or runs an agent; replay of a live run |
  | 413 | the body is over 2 MiB |
  | 414 | the path and query string are over 16 KiB |
  | 422 | invalid JSON, an unknown or unsupported option (named in the message), an invalid action, a limit |
  | 503 | no browser can be started now (`LANTERNA_MAX_BROWSERS` reached, or no Chromium) |

  A failed *action* is not an HTTP error: `POST /sessions/{id}/page/execute` answers 200 with
  `success: false` and a `message` saying what to do.
- **Limits**: every string, list and number a client sends has a limit (e.g. 100 000 characters
  for a task, 32 768 for a URL, 4 096 for a selector, `page` at most 100 000); going over it is a 422
  naming the field and the limit. A NUL character (`\\u0000` in JSON, `%00` in the URL) is a 422.
- **Bodies**: unknown fields are ignored, except on `POST /sessions/start` and on actions
  (`POST /sessions/{id}/page/execute`), where an unknown field is a 422 naming it (actions accept
  the `category` and `description` notte's client sends). Booleans in query strings are
  case-insensitive (`True`, `false`).
- **Times** are UTC, RFC 3339 (`2025-06-01T12:00:00.123000Z`).
- **Paths**: `/sessions` and `/sessions/` (and `/agents`, `/agents/`) are the same;
  repeated slashes (`//health`) are collapsed.
- **Session status**: `active`, then `closed` (stopped, or the server shut down or restarted —
  see `error`), `timed_out` (`error` is `idle timeout` or `max duration reached`) or `error`
  (the browser died). `DELETE /sessions/{id}/stop` is idempotent and always answers
  `status: closed`; `error` then tells what ended the session if it was not this call.

## WebSockets

OpenAPI does not describe WebSockets; lanterna serves these:

- `ws://HOST/sessions/{id}/cdp?token=KEY`: the Chrome DevTools Protocol of the session's
  browser, relayed by lanterna; `playwright.chromium.connect_over_cdp(url)` works. The upgrade is
  refused with HTTP 401 (key), 404 (not your session) or 409 (closed session).
  Every refused upgrade answers with the usual JSON error body; an unknown WebSocket path is a 404
  that lists the endpoints below.
- `ws://HOST/sessions/{id}/cdp/page/{target}?token=KEY`: CDP of one tab (the URLs are in
  `GET /sessions/{id}/debug` → `tabs[].ws_url`).
- `ws://HOST/agents/{id}/debug/logs?token=KEY`: an agent's steps as JSON text frames (past steps
  first, then live ones), then `{"status": "agent_stop", "agent": {…}}`.

- `ws://HOST/sessions/{id}/recording?token=KEY`: the session's live view, its frames as binary
  JPEG messages (the latest first, then each new one), after a first text message
  `{"viewport": {"width": W, "height": H}, "interactive": false}`. With `&interactive=true` it takes
  `{"input": {"type": "click", "x": X, "y": Y}}` (also `scroll` with `delta_x`/`delta_y`, `text`
  with `text`, `key` with `key`) in viewport pixels; a refused input answers `{"error": "…"}`.

`GET /sessions/{id}/debug` also names a `logs` WebSocket URL, as notte's client expects; lanterna
does not serve it (use `/agents/{id}/debug/logs`).
"""


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if "oneOf" in schema:  # a tagged union (actions): name each member by its tag
        refs = [s["$ref"].rsplit("/", 1)[-1] for s in schema["oneOf"] if "$ref" in s]
        tags = schema.get("discriminator", {}).get("mapping", {})
        mapping = {ref.rsplit("/", 1)[-1]: tag for tag, ref in tags.items()}
        if len(refs) == len(schema["oneOf"]) and mapping:
            return "one of " + ", ".join(f"[`{mapping.get(r, r)}`](#{r.lower()})" for r in refs)
        return " or ".join(_type(s) for s in schema["oneOf"])
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        return "object"
    return str(kind)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _parameters(operation: dict[str, Any]) -> list[str]:
    params = [p for p in operation.get("parameters", []) if p.get("in") in ("path", "query")]
    if not params:
        return []
    lines = ["| parameter | in | type | default | description |", "| --- | --- | --- | --- | --- |"]
    for p in params:
        schema = p.get("schema", {})
        default = json.dumps(schema["default"]) if "default" in schema else ""
        default = default or ("required" if p.get("required") else "")
        description = p.get("description", schema.get("description", ""))
        lines.append(
            f"| `{p['name']}` | {p['in']} | {_type(schema)} | {_cell(default)} | {_cell(description)} |"
        )
    return [*lines, ""]


def _body(operation: dict[str, Any]) -> str | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    if "anyOf" in schema:  # an optional body: `X | None`
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
    optional = "" if operation["requestBody"].get("required") else " (optional: no body means the defaults)"
    return f"Body: {_type(schema)}{optional}"


def _responses(operation: dict[str, Any]) -> list[str]:
    lines = []
    for status, response in sorted(operation.get("responses", {}).items()):
        content = response.get("content", {})
        schema = content.get("application/json", {}).get("schema")
        shape = _type(schema) if schema else ", ".join(content) or "no body"
        lines.append(f"- `{status}` {response.get('description', '')}: {shape}")
    return lines


def _schema_section(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [schema["description"].strip(), ""]
    properties = schema.get("properties", {})
    if not properties:
        if "oneOf" in schema or "anyOf" in schema:
            lines += [f"One of: {_type(schema)}", ""]
        return lines
    required = set(schema.get("required", []))
    for example in schema.get("examples", [])[:1]:
        lines += [f"Example: `{json.dumps(example)}`", ""]
    lines += ["| field | type | required | default | description |", "| --- | --- | --- | --- | --- |"]
    for field, spec in properties.items():
        default = json.dumps(spec["default"]) if "default" in spec else ""
        lines.append(
            f"| `{field}` | {_type(spec)} | {'yes' if field in required else ''} | {_cell(default)} "
            f"| {_cell(spec.get('description', ''))} |"
        )
    return [*lines, ""]


def render(schema: dict[str, Any]) -> str:
    """The whole reference: conventions, every endpoint grouped by tag, then every body shape."""
    out = [INTRO, "## Endpoints", ""]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            tag = (operation.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append((path, method.upper(), operation))
    order = ["health", "sessions", "agents"]
    for tag in sorted(by_tag, key=lambda t: (order.index(t) if t in order else len(order), t)):
        out += [f"### {tag}", ""]
        for path, method, operation in by_tag[tag]:
            out += [f"#### `{method} {path}`", ""]
            if operation.get("description") or operation.get("summary"):
                out += [(operation.get("description") or operation["summary"]).strip(), ""]
            out += _parameters(operation)
            body = _body(operation)
            if body:
                out += [body, ""]
            out += [*_responses(operation), ""]
    out += ["## Shapes", ""]
    for name, spec in sorted(schema.get("components", {}).get("schemas", {}).items()):
        out += _schema_section(name, spec)
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    from lanterna.server.app import create_app

    print(render(create_app(Settings()).openapi()), end="")


if __name__ == "__main__":
    main()
