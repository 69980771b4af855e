"""Reading what a plain-language task asks for, for the offline reasoner.

Only ordinary intents are recognised: open a URL, find a fact, click a named element, fill
named fields, add an item to a cart, extract the page's text or a table. ``parse_intent``
returns None for anything else, and the offline reasoner then says it needs an LLM.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

FindTarget = Literal["email", "phone", "price", "heading", "label"]

_GOAL_LINE = re.compile(r"^\s*goal\s*:\s*(.+)$", re.I | re.M)
_URL = re.compile(r"https?://[^\s'\"<>]+", re.I)
_BARE_HOST = re.compile(
    r"(?<![@\w/.:-])((?:localhost|\d{1,3}(?:\.\d{1,3}){3}|(?:[a-z0-9-]+\.)+[a-z]{2,})"
    r"(?::\d+)?(?:/[^\s'\"<>]*)?)(?![\w@-])",
    re.I,
)
_FILE_SUFFIXES = {"html", "htm", "php", "js", "css", "json", "txt", "md", "py", "png", "jpg", "pdf", "csv"}

_ADD_TO_CART = re.compile(
    r"\badd(?:s|ing)?\b(?P<product>.{0,80}?)\b(?:to|into|in)\s+(?:the\s+|my\s+|your\s+|a\s+)?"
    r"(?:shopping\s+)?(?:cart|basket|bag)\b",
    re.I,
)
_CLICK = re.compile(
    r"\b(?:click|press|tap|hit|push)(?:\s+on)?\s+(?:the\s+|a\s+)?[\"'“‘]?(?P<target>.+?)[\"'”’]?"
    r"(?:\s+(?:button|link|tab|menu item|icon|checkbox))?\s*(?=$|[.,;!]|\s+and\s|\s+then\s)",
    re.I,
)
_VALUE = r"(?P<value>\"[^\"]*\"|'[^']*'|“[^”]*”|.+?)"
_VALUE_END = r"(?=\s+and\s|\s*[,;]|\s+then\s|\.?\s*$)"
_FIELD_WITH = re.compile(
    r"(?P<field>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,3}?)\s+(?:field\s+|box\s+|input\s+)?(?:with|as|to)\s+"
    + _VALUE
    + _VALUE_END,
    re.I,
)
_VALUE_INTO = re.compile(
    r"\b(?:enter|type|put|write|input)\s+" + _VALUE + r"\s+(?:in|into)\s+(?:the\s+)?"
    r"(?P<field>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2}?)(?:\s+(?:field|box|input))?" + _VALUE_END,
    re.I,
)
_FILL_VERB = re.compile(r"\b(?:fill|enter|type|put|write|input|set)\b", re.I)
_FIELD_NOISE = {
    "fill",
    "in",
    "out",
    "enter",
    "type",
    "put",
    "write",
    "input",
    "set",
    "the",
    "a",
    "an",
    "and",
    "then",
    "also",
    "field",
    "form",
    "box",
    "my",
    "your",
    "please",
}
_SUBMIT = re.compile(r"\b(?:submit|send|sign\s*in|log\s*in|login|search|register|subscribe)\b", re.I)

_FIND_VERB = re.compile(
    r"\b(?:find|get|what|what's|whats|report|look\s*up|tell|show|retrieve|locate|give|return|fetch|"
    r"check|which|read|list)\b",
    re.I,
)
_TARGETS: list[tuple[FindTarget, re.Pattern[str]]] = [
    ("email", re.compile(r"\b(?:e-?mail|mail\s+address)\b", re.I)),
    ("phone", re.compile(r"\b(?:phone|telephone)(?:\s+number)?\b", re.I)),
    ("price", re.compile(r"\b(?:price|cost|how\s+much)\b", re.I)),
    ("heading", re.compile(r"\b(?:heading|headline|h1|title)\b", re.I)),
]
_EXTRACT = re.compile(
    r"\b(?:extract|scrape|main\s+text|main\s+content|page\s+content|page\s+text|contents?|summari[sz]e|"
    r"tables?|data)\b",
    re.I,
)
_TABLE = re.compile(r"\btables?\b", re.I)
_NAVIGATE = re.compile(r"\b(?:go|open|visit|navigate|browse|load)\b", re.I)
_LABEL = re.compile(
    r"\b(?:find|get|what\s+is|what's|whats|report|look\s*up|tell\s+me|retrieve|locate|give\s+me|fetch|"
    r"read|which\s+is)\s+(?:out\s+)?(?:me\s+)?(?:the\s+|a\s+|an\s+)?(?P<label>[\w][\w\s-]{0,40}?)"
    r"(?:\s+(?:of|for|on|in|from|at|listed|shown|mentioned)\b(?:\s+(?:the\s+|a\s+)?(?P<subject>[^,.;?!]+?))?)?"
    r"\s*(?=$|[,.;?!]|\s+and\s|\s+then\s)",
    re.I,
)
_SUBJECT_OF = re.compile(
    r"\b(?:of|for)\s+(?:the\s+|a\s+|an\s+)?(?P<subject>[^,.;?!]+?)\s*(?=$|[,.;?!]|\s+and\s|\s+on\s|\s+at\s)",
    re.I,
)
_GENERIC_WORDS = {
    "item",
    "items",
    "product",
    "products",
    "one",
    "thing",
    "page",
    "site",
    "website",
    "shop",
    "store",
    "first",
    "this",
    "that",
    "it",
    "an",
    "a",
    "the",
    "some",
    "any",
    "your",
    "my",
    "cart",
    "basket",
}
_GENERIC_LABELS = {"task", "answer", "result", "data", "information", "info", "it", "this", "that", "thing"}


class Intent(BaseModel):
    """One ordinary task, as understood by the offline reasoner."""

    kind: Literal["navigate", "find", "click", "fill", "add_to_cart", "extract"]
    url: str | None = None
    target: FindTarget | None = None
    label: str | None = Field(default=None, description="text label to find, or element name to click")
    subject: str | None = Field(default=None, description="what the fact is about, e.g. a product name")
    fields: list[tuple[str, str]] = Field(default_factory=list)
    submit: bool = False
    table: bool = False

    def describe(self) -> str:
        """What is being looked for, in words."""
        if self.kind == "find":
            what = self.label if self.target == "label" else self.target
            return f"the {what}" + (f" of {self.subject}" if self.subject else "")
        if self.kind == "click":
            return f"'{self.label}'"
        if self.kind == "add_to_cart":
            return self.subject or "an item"
        return self.kind


def goal_of(task: str) -> str:
    """The user's goal: the ``goal:`` line of a templated task, else the task itself."""
    match = _GOAL_LINE.search(task)
    return match.group(1).strip() if match else task.strip()


def find_url(text: str) -> str | None:
    """The first URL or bare host name (``example.com``, ``127.0.0.1:8000/x``) in ``text``."""
    match = _URL.search(text)
    if match:
        return match.group(0).rstrip(".,;:!?)'\"")
    for bare in _BARE_HOST.finditer(text):
        host = bare.group(1).rstrip(".,;:!?)'\"")
        suffix = host.split("/")[0].split(":")[0].rsplit(".", 1)[-1].lower()
        if suffix in _FILE_SUFFIXES:
            continue
        local = host.startswith("localhost") or re.match(r"\d", host)
        return ("http://" if local else "https://") + host
    return None


def _clean(text: str) -> str:
    text = text.strip().strip("\"'“”‘’").strip()
    return re.sub(r"\s+", " ", text)


def _specific(phrase: str | None) -> str | None:
    """``phrase`` unless it only says "the item" or "the first product"."""
    if not phrase:
        return None
    words = [w for w in re.findall(r"[\w'-]+", phrase.lower())]
    if not words or all(w in _GENERIC_WORDS for w in words):
        return None
    stripped = re.sub(r"^(?:the|a|an|one|some)\s+", "", _clean(phrase), flags=re.I)
    return stripped or None


def _fill_pairs(goal: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    for pattern in (_VALUE_INTO, _FIELD_WITH):
        for match in pattern.finditer(goal):
            if any(start <= match.start() < end for start, end in spans):
                continue
            words = [w for w in match.group("field").split() if w.lower() not in _FIELD_NOISE]
            value = _clean(match.group("value"))
            if words and value:
                pairs.append((" ".join(words), value))
                spans.append((match.start(), match.end()))
    return pairs


def parse_intent(task: str) -> Intent | None:
    """The intent of ``task``, or None when the offline reasoner cannot handle it."""
    goal = goal_of(task)
    url = find_url(goal)
    without_url = goal.replace(url, " ") if url and url in goal else goal

    cart = _ADD_TO_CART.search(without_url)
    if cart:
        return Intent(kind="add_to_cart", url=url, subject=_specific(cart.group("product")))

    if _FILL_VERB.search(without_url):
        pairs = _fill_pairs(without_url)
        if pairs:
            return Intent(kind="fill", url=url, fields=pairs, submit=bool(_SUBMIT.search(without_url)))

    click = _CLICK.search(without_url)
    if click and _clean(click.group("target")):
        return Intent(kind="click", url=url, label=_clean(click.group("target")))

    if _FIND_VERB.search(without_url):
        for target, pattern in _TARGETS:
            if pattern.search(without_url):
                subject = _SUBJECT_OF.search(without_url)
                return Intent(
                    kind="find",
                    url=url,
                    target=target,
                    subject=_specific(subject.group("subject")) if subject else None,
                )

    if _EXTRACT.search(without_url):
        return Intent(kind="extract", url=url, table=bool(_TABLE.search(without_url)))

    label = _LABEL.search(without_url)
    if label:
        text = _clean(label.group("label"))
        words = text.lower().split()
        if words and not all(w in _GENERIC_LABELS | _GENERIC_WORDS for w in words):
            return Intent(
                kind="find", url=url, target="label", label=text, subject=_specific(label.group("subject"))
            )

    if url and _NAVIGATE.search(without_url):
        return Intent(kind="navigate", url=url)
    return None
