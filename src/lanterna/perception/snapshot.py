"""Parsing Playwright's AI aria snapshot (a YAML list) into a tree of ``AriaNode``.

The snapshot's lines look like::

    - link "Cart" [ref=e19] [cursor=pointer]:
      - /url: https://shop.example/cart
    - textbox "Email" [active] [ref=e12]: jo@example.com
    - 'row "Size: M" [ref=f2e9]':

A key is ``role "json name" [attr]...``, single-quoted as a whole when YAML needs it;
a value is plain or double-quoted with JSON-like escapes. Text children are ``- text: ...``,
properties are ``- /url: ...`` and ``- /placeholder: ...``. A dedicated line parser is
several times faster than a YAML library on these snapshots and keeps the attributes typed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_ATTR = re.compile(r"\[([a-z-]+)(?:=([^\]]*))?\]")
_X_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


@dataclass(slots=True)
class AriaNode:
    """One node of the snapshot. ``role == "text"`` nodes carry only ``text``."""

    role: str
    name: str = ""
    ref: str | None = None
    text: str | None = None  # inline value after the key (``textbox "Email": jo@x``)
    url: str | None = None
    placeholder: str | None = None
    checked: bool | None = None  # None: no checked state rendered; "mixed" counts as True
    mixed: bool = False
    disabled: bool = False
    expanded: bool = False
    active: bool = False
    selected: bool = False
    pressed: bool = False
    hidden: bool = False
    pointer: bool = False
    level: int | None = None
    children: list[AriaNode] = field(default_factory=list)


def parse_snapshot(snapshot: str) -> list[AriaNode]:
    """The top-level nodes of an AI aria snapshot, with their children nested."""
    roots: list[AriaNode] = []
    # (indent, node) of the open ancestors; children are indented two spaces deeper.
    stack: list[tuple[int, AriaNode]] = []
    for line in snapshot.splitlines():
        stripped = line.lstrip(" ")
        if not stripped.startswith("- "):
            continue
        indent = len(line) - len(stripped)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else None
        key, value, has_children = _split_line(stripped[2:])
        if key.startswith("/"):
            if parent is not None:
                if key == "/url":
                    parent.url = value or ""
                elif key == "/placeholder":
                    parent.placeholder = value or ""
            continue
        if key == "text":
            node = AriaNode(role="text", text=value or "")
        else:
            node = _parse_key(key)
            node.text = value
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
        if has_children:
            stack.append((indent, node))
    return roots


def _split_line(rest: str) -> tuple[str, str | None, bool]:
    """(key, inline value, whether child lines follow) of one ``- ...`` line."""
    if rest.startswith("'"):
        end = _single_quote_end(rest)
        key = rest[1:end].replace("''", "'")
        tail = rest[end + 1 :]
    else:
        cut = rest.find(": ")
        if cut >= 0:
            return rest[:cut], _unquote(rest[cut + 2 :]), False
        if rest.endswith(":"):
            return rest[:-1], None, True
        return rest, None, False
    if tail.startswith(": "):
        return key, _unquote(tail[2:]), False
    return key, None, tail == ":"


def _single_quote_end(s: str) -> int:
    i = 1
    while True:
        j = s.find("'", i)
        if j < 0:
            return len(s)
        if j + 1 < len(s) and s[j + 1] == "'":
            i = j + 2
            continue
        return j


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            decoded = json.loads(_X_ESCAPE.sub(r"\\u00\1", value))
        except ValueError:
            return value[1:-1]
        return decoded if isinstance(decoded, str) else value
    return value


def _parse_key(key: str) -> AriaNode:
    space = key.find(" ")
    if space < 0:
        return AriaNode(role=key)
    node = AriaNode(role=key[:space])
    rest = key[space + 1 :]
    if rest.startswith('"'):
        end = _json_string_end(rest)
        try:
            node.name = json.loads(rest[: end + 1])
        except ValueError:
            node.name = rest[1:end]
        rest = rest[end + 1 :]
    for attr, val in _ATTR.findall(rest):
        _apply_attr(node, attr, val)
    return node


def _json_string_end(s: str) -> int:
    i = 1
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i
        i += 1
    return len(s) - 1


def _apply_attr(node: AriaNode, attr: str, val: str) -> None:
    if attr == "ref":
        node.ref = val
    elif attr == "checked":
        node.checked = True
        node.mixed = val == "mixed"
    elif attr == "disabled":
        node.disabled = True
    elif attr == "expanded":
        node.expanded = True
    elif attr == "active":
        node.active = True
    elif attr == "selected":
        node.selected = True
    elif attr == "pressed":
        node.pressed = True
    elif attr == "aria-hidden":
        node.hidden = True
    elif attr == "cursor":
        node.pointer = val == "pointer"
    elif attr == "level" and val.isdigit():
        node.level = int(val)
