"""Structured extraction without a model: page HTML + JSON schema → what the page plainly says.

The offline answer to ``scrape(response_format=…)``. It reads labelled values ("Price: $12",
definition lists, two-cell table rows), emails, phones, prices, headings, tables with a header row
and lists, then fills each schema field whose name, title or description matches a label. It never
guesses: a field nothing matches stays out and is named in the result, and ``success`` is true only
when every required field was filled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup, Tag

from lanterna.models.scrape import StructuredData

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w])\+?\d[\d ().-]{6,}\d(?![\w])")
PRICE = re.compile(r"(?:[$€£¥]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:USD|EUR|GBP|[$€£]))")
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
LABELLED_LINE = re.compile(r"^\s*([^:\n]{1,60}?)\s*:\s+(\S.{0,500}?)\s*$")
MAX_DEPTH = 8  # schema nesting followed; deeper parts are left unfilled
MAX_ROWS = 500  # rows of one table turned into objects

_BLOCKS = ["div", "p", "li", "ul", "ol", "table", "section", "article"]
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_STOP_WORDS = {"the", "a", "an", "of", "for", "in", "on", "to", "and", "or", "is", "its", "this", "that"}
_KIND_WORDS = {
    "email": {"email", "mail", "e-mail"},
    "phone": {"phone", "telephone", "tel", "mobile", "fax"},
    "price": {"price", "cost", "amount", "fee", "total"},
    "heading": {"title", "heading", "name", "headline"},
}


def words(text: str) -> list[str]:
    """Lower-case words of a label or field name (``unitPrice``, ``unit_price``, "Unit price")."""
    spaced = _CAMEL.sub(" ", text)
    return [w for w in _WORD_SPLIT.split(spaced.lower()) if w and w not in _STOP_WORDS]


def _key(text: str) -> str:
    return " ".join(words(text))


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class PageFacts:
    """What the deterministic extractor found on a page."""

    labels: dict[str, str] = field(default_factory=dict)  # label key → value text, first wins
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    prices: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    lists: list[tuple[str, list[str]]] = field(default_factory=list)  # (heading before it, items)


def _text(node: Tag) -> str:
    return " ".join(node.get_text(" ", strip=True).split())


def read_facts(html: str) -> PageFacts:
    """Everything labelled or recognisable in ``html``."""
    soup = BeautifulSoup(html, "html.parser")
    facts = PageFacts()

    def label(name: str, value: str) -> None:
        key = _key(name)
        if key and value and key not in facts.labels:
            facts.labels[key] = value

    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        text = _text(heading)
        if text:
            facts.headings.append(text)
    for dl in soup.find_all("dl"):
        for dt in dl.find_all("dt"):
            dd = dt.find_next_sibling("dd")
            if isinstance(dd, Tag):
                label(_text(dt), _text(dd))
    for table in soup.find_all("table"):
        rows = [r for r in table.find_all("tr") if isinstance(r, Tag)]
        cells = [[_text(c) for c in r.find_all(["th", "td"])] for r in rows]
        first = rows[0] if rows else None
        if first is not None and first.find("th") and not first.find("td") and len(cells[0]) > 1:
            body = [c for c in cells[1:] if any(c)][:MAX_ROWS]
            facts.tables.append(Table(headers=cells[0], rows=body))
        for row in cells:
            if len(row) == 2:  # a key/value table
                label(row[0].rstrip(":"), row[1])
    for ul in soup.find_all(["ul", "ol"]):
        items = [_text(li) for li in ul.find_all("li", recursive=False)]
        items = [i for i in items if i]
        if items:
            before = ul.find_previous(re.compile(r"^h[1-6]$"))
            facts.lists.append((_text(before) if isinstance(before, Tag) else "", items))
    text = soup.get_text("\n")
    for line in text.splitlines():
        match = LABELLED_LINE.match(line)
        if match:
            label(match.group(1), match.group(2))
    # "<b>Price:</b> $12" renders as two text nodes: read labels from block-level text too.
    for block in soup.find_all(["p", "li", "div", "span", "td"]):
        if block.find(_BLOCKS) is not None:  # its inner blocks are read on their own
            continue
        match = LABELLED_LINE.match(_text(block))
        if match:
            label(match.group(1), match.group(2))
    flat = " ".join(text.split())
    facts.emails = list(dict.fromkeys(EMAIL.findall(flat)))
    facts.phones = list(
        dict.fromkeys(p.strip() for p in PHONE.findall(flat) if sum(c.isdigit() for c in p) >= 7)
    )
    facts.prices = list(dict.fromkeys(p.strip() for p in PRICE.findall(flat)))
    return facts


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` and unwrap ``anyOf [X, null]``."""
    for _ in range(MAX_DEPTH):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            schema = target if isinstance(target, dict) else {}
            continue
        branches = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(branches, list):
            kept = [b for b in branches if isinstance(b, dict) and b.get("type") != "null"]
            if kept:
                schema = {**{k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}, **kept[0]}
                continue
        break
    return schema


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None and "properties" in schema:
        return "object"
    return kind if isinstance(kind, str) else "string"


def _names(name: str, schema: dict[str, Any]) -> list[str]:
    """Label keys a field may appear under: its name, its title, then its description."""
    names = [_key(name)]
    for attr in ("title", "description"):
        value = schema.get(attr)
        if isinstance(value, str) and _key(value):
            names.append(_key(value))
    return list(dict.fromkeys(n for n in names if n))


def _coerce(value: str, kind: str) -> Any:
    """``value`` as a JSON value of ``kind``, or None when it is not one."""
    if kind == "string":
        return value
    if kind in ("number", "integer"):
        match = NUMBER.search(value)
        if not match:
            return None
        number = float(match.group().replace(",", ""))
        if kind == "integer":
            return int(number) if number.is_integer() else None
        return number
    if kind == "boolean":
        lowered = value.strip().lower()
        if lowered in ("yes", "true", "y", "1", "available", "in stock", "[x]"):
            return True
        if lowered in ("no", "false", "n", "0", "unavailable", "out of stock", "[ ]"):
            return False
    return None


class _Filler:
    def __init__(self, facts: PageFacts, root: dict[str, Any]) -> None:
        self.facts = facts
        self.root = root

    def scalar(self, name: str, schema: dict[str, Any], kind: str) -> Any:
        keys = _names(name, schema)
        for key in keys:  # an exact label first
            if key in self.facts.labels:
                value = _coerce(self.facts.labels[key], kind)
                if value is not None:
                    return value
        field_words = set(words(name))
        for key, text in self.facts.labels.items():  # then a label made of the field's words
            if field_words and field_words <= set(key.split()):
                value = _coerce(text, kind)
                if value is not None:
                    return value
        for kind_name, vocabulary in _KIND_WORDS.items():
            if not field_words & vocabulary:
                continue
            found = {
                "email": self.facts.emails,
                "phone": self.facts.phones,
                "price": self.facts.prices,
                "heading": self.facts.headings,
            }[kind_name]
            if found:
                value = _coerce(found[0], kind)
                if value is not None:
                    return value
        return None

    def array(self, name: str, schema: dict[str, Any], depth: int) -> list[Any] | None:
        items = _resolve(schema.get("items") or {}, self.root)
        field_words = set(words(name))
        if _type(items) == "object":
            props = items.get("properties") or {}
            best: tuple[int, Table | None] = (0, None)
            for table in self.facts.tables:
                header_keys = [_key(h) for h in table.headers]
                score = sum(
                    1
                    for p, s in props.items()
                    if any(n in header_keys for n in _names(p, _resolve(s, self.root)))
                )
                if score > best[0]:
                    best = (score, table)
            chosen_table = best[1]
            if chosen_table is None:
                return None
            header_keys = [_key(h) for h in chosen_table.headers]
            rows = []
            for row in chosen_table.rows:
                obj: dict[str, Any] = {}
                for prop, prop_schema in props.items():
                    resolved = _resolve(prop_schema, self.root)
                    column = next(
                        (header_keys.index(n) for n in _names(prop, resolved) if n in header_keys), None
                    )
                    if column is not None and column < len(row):
                        value = _coerce(row[column], _type(resolved))
                        if value is not None:
                            obj[prop] = value
                if obj:
                    rows.append(obj)
            return rows or None
        kind = _type(items)
        chosen = next(
            (entries for heading, entries in self.facts.lists if field_words & set(words(heading))), None
        )
        if chosen is None:
            vocab = {k: v for k, v in _KIND_WORDS.items() if field_words & v}
            if "email" in vocab:
                chosen = self.facts.emails
            elif "phone" in vocab:
                chosen = self.facts.phones
            elif "price" in vocab:
                chosen = self.facts.prices
            elif field_words & {"headings", "sections", "titles"}:
                chosen = self.facts.headings
        if not chosen:
            return None
        values = [_coerce(v, kind) for v in chosen]
        return [v for v in values if v is not None] or None

    def object(self, schema: dict[str, Any], depth: int, path: str, missing: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        for name, raw in properties.items():
            sub = _resolve(raw if isinstance(raw, dict) else {}, self.root)
            kind = _type(sub)
            where = f"{path}{name}"
            value: Any = None
            if depth >= MAX_DEPTH:
                value = None
            elif kind == "object":
                inner_missing: list[str] = []
                inner = self.object(sub, depth + 1, f"{where}.", inner_missing)
                value = inner or None
                missing.extend(inner_missing)
            elif kind == "array":
                value = self.array(name, sub, depth)
            else:
                value = self.scalar(name, sub, kind)
            if value is None:
                if kind != "object" or not (sub.get("properties")):
                    missing.append(where + ("" if name in required else " (optional)"))
                elif name in required and where not in missing:
                    missing.append(where)
                continue
            out[name] = value
        return out


def extract_structured(
    html: str, schema: dict[str, Any] | None, instructions: str | None = None
) -> StructuredData:
    """Fill ``schema`` (a JSON schema of an object) from ``html``; without a schema, every labelled value."""
    facts = read_facts(html)
    if not schema or _type(_resolve(schema, schema)) != "object":
        data: dict[str, Any] = dict(facts.labels)
        found: list[str]
        for key, found in (("emails", facts.emails), ("phones", facts.phones), ("prices", facts.prices)):
            if found:
                data[key] = found
        if facts.headings:
            data["headings"] = facts.headings
        for heading, items in facts.lists:  # a list under "Materials" becomes "materials": [...]
            data.setdefault(_key(heading) or "items", items)
        if instructions:  # keep what the instructions ask about, when they name it
            asked = set(words(instructions))
            chosen = {k: v for k, v in data.items() if asked & set(k.split()) or asked & set(words(k))}
            data = chosen or data
        if not data:
            return StructuredData(
                success=False,
                error="the page has no labelled values to extract; "
                "configure an LLM model for free-form extraction",
            )
        return StructuredData(success=True, data=data)
    root = _resolve(schema, schema)
    missing: list[str] = []
    data = _Filler(facts, schema).object(root, 1, "", missing)
    unfilled_required = [m for m in missing if not m.endswith("(optional)")]
    if unfilled_required:
        # No partial data: clients validate ``data`` against the whole model, failure or not.
        filled = ", ".join(data) or "nothing"
        return StructuredData(
            success=False,
            error=(
                "could not find on the page: " + ", ".join(missing) + f" (found: {filled}; the offline "
                "extractor fills labelled values, emails, phones, prices, headings, tables and lists; "
                "configure an LLM model for the rest)"
            ),
        )
    return StructuredData(success=True, data=data)
