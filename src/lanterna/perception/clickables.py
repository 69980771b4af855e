"""Clickable elements the accessibility tree does not call interactive.

A ``<span onclick>``, a datepicker's ``<a title="Next">`` without ``href``, an icon ``<div>``
with ``cursor: pointer`` or a slider handle with ``tabindex`` are plain ``generic`` nodes in
the AI snapshot, or no node at all when their text merges into a paragraph. One page script
finds them (click attributes, pointer cursor, keyboard focus without a role), marks each with
``data-lanterna-click`` so an action can address it, and returns them in document order with
the name a person would read. ``render`` then gives them ``M`` ids in place or, when the tree
has no node for them, in a short list after the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MARK = "data-lanterna-click"
MAX_CLICKABLES = 60  # more are page furniture (every row of a grid): the budget goes to content

# Outermost clickable wins: the handler of <a onclick><span>Next</span></a> is the <a>. Elements that
# are already interactive (or inside one) are left to the accessibility tree.
PROBE_JS = """([mark, limit]) => {
  const roles = ['button', 'link', 'checkbox', 'radio', 'tab', 'menuitem', 'option', 'switch', 'slider',
    'textbox', 'combobox', 'listbox', 'searchbox', 'spinbutton', 'menuitemcheckbox', 'menuitemradio',
    'treeitem'];
  const semantic = 'a[href],button,input,select,textarea,label,summary,option,details,' +
    '[contenteditable=""],[contenteditable=true],' + roles.map(r => `[role=${r}]`).join(',');
  const clickAttr = '[onclick],[onmousedown],[ng-click],[data-handler],[jsaction*="click"],[tabindex]';
  for (const old of document.querySelectorAll('[' + mark + ']')) old.removeAttribute(mark);
  const out = [];
  const taken = new Set();
  const candidates = document.body ? document.body.querySelectorAll('*') : [];
  for (const e of candidates) {
    if (out.length >= limit) break;
    if (e.namespaceURI !== 'http://www.w3.org/1999/xhtml') continue;  // SVG shapes: render handles them
    let how = '';
    const unfocusable = e.getAttribute('tabindex') === '-1' && !e.matches('[onclick]');
    if (e.matches(clickAttr) && !unfocusable) how = 'handler';
    else {
      const cursor = getComputedStyle(e).cursor;
      if (cursor !== 'pointer') continue;
      const parent = e.parentElement;
      if (parent && getComputedStyle(parent).cursor === 'pointer') continue;  // inherited
      how = 'pointer';
    }
    if (e.closest(semantic)) continue;
    let up = e.parentElement, nested = false;
    while (up) { if (taken.has(up)) { nested = true; break; } up = up.parentElement; }
    if (nested || !e.checkVisibility({visibilityProperty: true})) continue;
    const r = e.getBoundingClientRect();
    if (r.width < 4 || r.height < 4) continue;
    taken.add(e);
    const text = (e.getAttribute('aria-label') || e.getAttribute('title') || e.innerText || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 80);
    const key = String(out.length);
    e.setAttribute(mark, key);
    const cls = e.classList.length ? '.' + e.classList[0] : '';
    out.push({key, name: text, how, tag: e.tagName.toLowerCase() + (e.id ? '#' + e.id : cls)});
  }
  return out;
}"""


class ClickableKind(StrEnum):
    """Why the probe thinks an element reacts to clicks."""

    HANDLER = "handler"  # a click attribute or keyboard focus
    POINTER = "pointer"  # a pointer cursor of its own


@dataclass(frozen=True, slots=True)
class Clickable:
    """One element the probe found: how to address it and what it is called."""

    key: str
    name: str
    kind: ClickableKind
    tag: str  # e.g. ``div#close`` or ``span.ui-slider-handle``: a name for nameless ones

    @property
    def selector(self) -> str:
        return f"css=[{MARK}='{self.key}']"


def parse_clickables(raw: object) -> list[Clickable]:
    """The probe's JSON as typed records (anything malformed is skipped)."""
    found: list[Clickable] = []
    if not isinstance(raw, list):
        return found
    for item in raw:
        if not isinstance(item, dict):
            continue
        try:
            found.append(
                Clickable(
                    key=str(item["key"]),
                    name=str(item.get("name") or ""),
                    kind=ClickableKind(str(item.get("how"))),
                    tag=str(item.get("tag") or ""),
                )
            )
        except (KeyError, ValueError):
            continue
    return found


class ClickableIndex:
    """The probe's findings by name, consumed as the renderer meets their nodes in the tree."""

    def __init__(self, clickables: list[Clickable]) -> None:
        self._by_name: dict[str, list[Clickable]] = {}
        self._order = clickables
        self._used: set[str] = set()
        for c in clickables:
            if c.name:
                self._by_name.setdefault(c.name, []).append(c)

    def has(self, name: str) -> bool:
        """Whether an unused clickable has this name."""
        return any(c.key not in self._used for c in self._by_name.get(name, ()))

    def take(self, name: str) -> Clickable | None:
        """The next unused clickable with this name, marked used."""
        queue = self._by_name.get(name)
        while queue:
            c = queue.pop(0)
            if c.key not in self._used:
                self._used.add(c.key)
                return c
        return None

    def leftover(self) -> list[Clickable]:
        """Clickables the tree had no node for. Nameless pointer-only ones are left out: the
        snapshot lists an element with its own pointer cursor already, and they would repeat it."""
        return [
            c for c in self._order if c.key not in self._used and (c.name or c.kind is ClickableKind.HANDLER)
        ]
