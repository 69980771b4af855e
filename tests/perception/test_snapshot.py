"""Parsing and rendering of Playwright's AI snapshot text, on hand-written snapshots."""

from __future__ import annotations

from lanterna.perception.render import render_nodes
from lanterna.perception.snapshot import parse_snapshot

SNAPSHOT = """\
- generic [ref=e1]:
  - 'heading "Size: M and ''more''" [level=2] [ref=e2]'
  - link "Say \\"hi\\"" [ref=e3] [cursor=pointer]:
    - /url: /hello
  - textbox "Email" [active] [ref=e4]: "jo@example.com "
  - /placeholder: ignored here
  - checkbox "All" [checked=mixed] [ref=e5]
  - combobox "State" [ref=e6]:
    - option "Alabama"
    - option "Texas" [selected]
  - button "Save" [disabled]
  - link [ref=e7] [cursor=pointer]:
    - /url: https://example.com/logo
  - paragraph [ref=e8]:
    - text: Prices
    - strong [ref=e9]: from $5
    - text: .
  - iframe [ref=e10]:
    - button "Pay" [ref=f1e2]
  - checkbox "Remember me" [ref=e11]
  - generic [ref=e12] [cursor=pointer]: Remember me
  - text: "tab:\\tnew"
"""


def test_parse_keys_values_and_attributes() -> None:
    (root,) = parse_snapshot(SNAPSHOT)
    heading, link, textbox, checkbox, combobox, *_ = root.children
    assert (heading.role, heading.name, heading.level, heading.ref) == (
        "heading",
        "Size: M and 'more'",
        2,
        "e2",
    )
    assert (link.name, link.url, link.pointer) == ('Say "hi"', "/hello", True)
    assert (textbox.text, textbox.active) == ("jo@example.com ", True)
    assert checkbox.checked and checkbox.mixed
    assert [(o.name, o.selected) for o in combobox.children] == [("Alabama", False), ("Texas", True)]
    assert root.children[-1].text == "tab:\tnew"
    iframe = root.children[-4]
    assert iframe.children[0].ref == "f1e2"


def test_render_ids_lines_and_states() -> None:
    rendering = render_nodes(parse_snapshot(SNAPSHOT))
    assert [(e.id, e.role, e.ref) for e in rendering.elements] == [
        ("L1", "link", "e3"),
        ("I1", "textbox", "e4"),
        ("B1", "checkbox", "e5"),
        ("I2", "combobox", "e6"),
        ("L2", "link", "e7"),
        ("B2", "button", "f1e2"),
        ("B3", "checkbox", "e11"),
        ("M1", "generic", "e12"),
    ]
    assert rendering.elements[2].checked is None  # mixed
    assert rendering.elements[3].value == "Texas"
    assert rendering.lines == [
        "## Size: M and 'more'",
        "[L1] link \"Say 'hi'\"",
        '[I1] textbox "Email" value="jo@example.com" focused',
        '[B1] checkbox "All" mixed',
        '[I2] combobox "State" value="Texas" options: Alabama | Texas',
        'button "Save" disabled',
        "[L2] link → https://example.com/logo",
        "Prices from $5.",
        '[B2] button "Pay"',
        '[B3] checkbox "Remember me" unchecked',
        "[M1] generic (label of B3)",
        "tab: new",
    ]
