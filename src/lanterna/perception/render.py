"""From the parsed snapshot to addressable elements and a compact text view for an LLM.

One pass over the tree:
- every node with a ref and an interactive role (or a pointer cursor) becomes an
  ``InteractiveElement`` with a short id (``L1``, ``B2``, ``I3`` …, numbered per prefix in
  document order) and one line such as ``[B3] button "Add to cart" disabled``;
- headings become ``## text``; text becomes trimmed lines, small text-only groups one line;
- wrappers (generic, list, region …) add no line; text that repeats the name of an
  adjacent element (a label) is dropped; the options of a native select are summarised;
- a drawing (an ``img`` with content: inline SVG) becomes one line of its text, and its named
  shapes (a chart's points) get ids;
- clickable elements without an interactive role (see ``clickables``) get ``M`` ids where the
  tree has their node, and are listed after the page where it has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lanterna.models.observation import (
    CHECKABLE_ROLES,
    OTHER_PREFIX,
    ROLE_PREFIX,
    VALUE_ROLES,
    InteractiveElement,
)
from lanterna.perception.clickables import ClickableIndex
from lanterna.perception.snapshot import AriaNode

MAX_NAME = 120  # characters of an element name in the text view (the model keeps it whole)
MAX_TEXT = 300  # characters of one text line
MAX_GROUP = 160  # a text-only subtree up to this size is rendered as one line
MAX_OPTIONS_SHOWN = 6
MAX_SHAPES = 30  # ids per drawing: a map with hundreds of regions must not flood the view
SKIPPED = frozenset({"separator", "presentation", "none"})
# Roles that flow within a line of text.
INLINE = frozenset(
    {"text", "strong", "emphasis", "code", "mark", "time"}
    | {"subscript", "superscript", "deletion", "insertion"}
)


@dataclass
class Rendering:
    elements: list[InteractiveElement] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def element_prefix(node: AriaNode) -> str | None:
    """The id prefix of a node actions can address, or None for plain content."""
    if node.ref is None:
        return None
    prefix = ROLE_PREFIX.get(node.role)
    if prefix == "F":
        # Images are addressable when they carry information or react to clicks.
        return "F" if node.name or node.pointer else None
    if prefix:
        return prefix
    return OTHER_PREFIX if node.pointer else None


def render_nodes(nodes: list[AriaNode], clickables: ClickableIndex | None = None) -> Rendering:
    """Elements and text lines of the tree; ``clickables`` adds what the page probe found."""
    renderer = _Renderer(clickables)
    for node in nodes:
        renderer.visit(node)
    renderer.list_leftover_clickables()
    return renderer.result


def _clean(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quote(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def _join_inline(pieces: list[str]) -> str:
    """Join text pieces with spaces, except before closing punctuation."""
    out = ""
    for piece in pieces:
        if out and piece[:1] not in ".,;:!?)]}’”" and not out.endswith(("(", "[", "‘", "“")):
            out += " "
        out += piece
    return out


def _texts(node: AriaNode, out: list[str]) -> None:
    """All text of a subtree, in order."""
    if node.role == "text" or node.text:
        t = _clean(node.text)
        if t:
            out.append(t)
    elif node.name and node.role not in ("img", "generic") and not node.children:
        out.append(_clean(node.name))
    for child in node.children:
        _texts(child, out)


class _Renderer:
    def __init__(self, clickables: ClickableIndex | None = None) -> None:
        self.result = Rendering()
        self.counters: dict[str, int] = {}
        self._structural: dict[int, bool] = {}
        self._clickables = clickables

    # -- classification ------------------------------------------------------------

    def _has_structure(self, node: AriaNode) -> bool:
        """Whether a subtree holds an element or a heading (so it cannot collapse to a line)."""
        key = id(node)
        cached = self._structural.get(key)
        if cached is None:
            clickable = (
                self._clickables is not None
                and node.ref is not None
                and self._clickables.has(_clean(node.name) or _clean(node.text))
            )
            cached = (
                clickable
                or element_prefix(node) is not None
                or node.role == "heading"
                or (node.role == "option")
                or any(self._has_structure(c) for c in node.children)
            )
            self._structural[key] = cached
        return cached

    # -- output --------------------------------------------------------------------

    def _line(self, text: str) -> None:
        lines = self.result.lines
        if lines and lines[-1] == text:
            return
        lines.append(text)

    def _text(self, raw: str | None) -> None:
        text = _clean(raw)
        if not text or (len(text) <= 2 and not any(c.isalnum() for c in text)):
            return  # stray punctuation between inline links
        lines = self.result.lines
        elements = self.result.elements
        if (
            elements
            and lines
            and lines[-1].startswith(f"[{elements[-1].id}]")
            and (_clean(elements[-1].name) == text)
        ):
            return  # the label after its control
        self._line(_cut(text, MAX_TEXT))

    # -- traversal -----------------------------------------------------------------

    def visit(self, node: AriaNode) -> None:
        role = node.role
        if role == "text":
            self._text(node.text)
            return
        if role in SKIPPED:
            return
        prefix = element_prefix(node)
        if self._clickables is not None and node.ref is not None:
            found = self._clickables.take(_clean(node.name) or _clean(node.text))
            if prefix is None and found is not None:
                self._element(node, OTHER_PREFIX, selector=found.selector)
                return
        if prefix is not None:
            self._element(node, prefix)
            return
        if role == "heading":
            hashes = "#" * min(node.level or 2, 6) + " "
            if any(self._has_structure(c) for c in node.children):
                # A heading wrapping a control (accordion toggles): the control carries the text.
                if node.name:
                    self._line(hashes + _cut(_clean(node.name), MAX_TEXT))
                for child in node.children:
                    self.visit(child)
                return
            parts: list[str] = []
            _texts(node, parts)
            text = _clean(node.name) or " ".join(parts)
            if text:
                self._line(hashes + _cut(text, MAX_TEXT))
            return
        if role in ("button", "link", "checkbox", "radio", "tab", "textbox", "combobox") and node.disabled:
            # Disabled controls get no ref: say they exist without an id.
            self._line(f"{role} {_quote(_cut(_clean(node.name), MAX_NAME))} disabled")
            return
        if role == "img":
            if node.children:
                self._figure(node)
            return
        if node.text:
            # The name usually repeats the text; when it says something else, keep both.
            name, text = _clean(node.name), _clean(node.text)
            self._text(f"{name}: {text}" if name and name not in text else text)
            return
        if node.children and not self._has_structure(node):
            parts = []
            _texts(node, parts)
            joined = " | ".join(parts) if role == "row" else _join_inline(parts)
            if len(joined) <= MAX_GROUP:
                self._text(joined)
                return
        self._children(node.children)

    def _children(self, children: list[AriaNode]) -> None:
        """Visit children; a run of inline text pieces (text, strong, …) becomes one line."""
        run: list[str] = []
        for child in children:
            if child.role in INLINE and not self._has_structure(child):
                _texts(child, run)
                continue
            if run:
                self._flush(run)
                run = []
            self.visit(child)
        if run:
            self._flush(run)

    def _flush(self, run: list[str]) -> None:
        joined = _join_inline(run)
        if len(joined) <= MAX_TEXT:
            self._text(joined)
        else:
            for piece in run:
                self._text(piece)

    def _next_id(self, prefix: str) -> str:
        number = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = number
        return f"{prefix}{number}"

    def _figure(self, node: AriaNode) -> None:
        """An inline drawing: its text on one line, its named shapes as elements."""
        texts: list[str] = []
        shapes: list[AriaNode] = []
        stack = list(reversed(node.children))
        while stack:
            child = stack.pop()
            if child.role == "text" or child.text:
                texts.append(_clean(child.text))
            elif child.name and child.ref and not child.children:
                shapes.append(child)
            stack.extend(reversed(child.children))
        label = _clean(node.name)
        body = " | ".join(t for t in texts if t)
        if label or body:
            head = f"figure {_quote(_cut(label, MAX_NAME))}" if label else "figure"
            self._line(_cut(f"{head}: {body}" if body else head, MAX_TEXT))
        for shape in shapes[:MAX_SHAPES]:
            element = InteractiveElement(
                id=self._next_id(OTHER_PREFIX), role="shape", name=_clean(shape.name), ref=shape.ref or ""
            )
            self.result.elements.append(element)
            self._line(f"[{element.id}] shape {_quote(_cut(element.name, MAX_NAME))}")
        if len(shapes) > MAX_SHAPES:
            self._line(f"… {len(shapes) - MAX_SHAPES} more shapes")

    def list_leftover_clickables(self) -> None:
        """Clickables the tree had no node for (text merged into a paragraph, icons), after the page."""
        if self._clickables is None:
            return
        leftover = self._clickables.leftover()
        if not leftover:
            return
        self._line("")
        self._line("clickable elements without a role:")
        for c in leftover:
            element = InteractiveElement(
                id=self._next_id(OTHER_PREFIX), role="clickable", name=c.name, ref="", selector=c.selector
            )
            self.result.elements.append(element)
            what = _quote(_cut(c.name, MAX_NAME)) if c.name else f"({c.tag})"
            self._line(f"[{element.id}] clickable {what}")

    def _element(self, node: AriaNode, prefix: str, selector: str | None = None) -> None:
        element_id = self._next_id(prefix)
        role = node.role
        name = _clean(node.name)
        child_options = [c for c in node.children if c.role == "option" and c.ref is None]
        value: str | None = None
        if role in VALUE_ROLES:
            if node.text is not None:
                value = node.text
            elif child_options:
                value = next((o.name for o in child_options if o.selected), None)
        if not name:
            parts: list[str] = []
            for child in node.children:
                _texts(child, parts)
            if role not in VALUE_ROLES:
                name = _clean(" ".join(parts)) or (_clean(node.text) if node.text else "")
        checked: bool | None = None
        if role in CHECKABLE_ROLES:
            checked = None if node.mixed else bool(node.checked)
        element = InteractiveElement(
            id=element_id,
            role=role,
            name=name,
            value=value,
            checked=checked,
            disabled=node.disabled,
            expanded=True if node.expanded else None,
            selected=True if node.selected else None,
            ref=node.ref or "",
            selector=selector,
        )
        # A label right before its control says the same thing: keep only the control.
        lines = self.result.lines
        if name and lines and lines[-1] == _cut(name, MAX_TEXT):
            lines.pop()
        elements = self.result.elements
        previous = elements[-1] if elements else None
        elements.append(element)
        if prefix == OTHER_PREFIX and previous is not None and name and previous.name == name:
            # A clickable label repeating its control's name (checkbox "Remember me" + its label).
            self._line(f"[{element_id}] {role} (label of {previous.id})")
        else:
            self._line(self._element_line(element, node, child_options))
        for child in node.children:
            if child.role != "text" and self._has_structure(child) and child not in child_options:
                self.visit(child)

    def _element_line(self, e: InteractiveElement, node: AriaNode, options: list[AriaNode]) -> str:
        parts = [f"[{e.id}]", e.role]
        if e.name:
            parts.append(_quote(_cut(e.name, MAX_NAME)))
        elif node.url:
            parts.append("→ " + _cut(node.url, 80))
        if e.value:
            parts.append("value=" + _quote(_cut(_clean(e.value), 80)))
        elif node.placeholder and _clean(node.placeholder) != e.name:
            parts.append("placeholder=" + _quote(_cut(_clean(node.placeholder), 60)))
        if e.checked is not None:
            parts.append("checked" if e.checked else "unchecked")
        elif node.mixed:
            parts.append("mixed")
        for flag, on in (
            ("disabled", e.disabled),
            ("expanded", e.expanded),
            ("selected", e.selected),
            ("pressed", node.pressed),
            ("focused", node.active and e.role in VALUE_ROLES),
            ("hidden", node.hidden),
        ):
            if on:
                parts.append(flag)
        if options:
            names = [_cut(_clean(o.name), 40) for o in options[:MAX_OPTIONS_SHOWN]]
            more = len(options) - len(names)
            parts.append("options: " + " | ".join(names) + (f" … (+{more})" if more else ""))
        return " ".join(parts)
