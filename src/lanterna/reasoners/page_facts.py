"""Finding facts (emails, phone numbers, prices, headings, labelled values) in an observation's text.

The observation text is an accessibility-tree rendering (``- heading "Contact" [level=1]``,
``- link "Home" [L1]``, ``- paragraph: some text``); ``plain_lines`` reduces it to the visible
strings, one per line, which the finders search.
"""

from __future__ import annotations

import re

_BRACKETS = re.compile(r"\s*\[[^\]\n]*\]")
_ROLE_NAME = re.compile(r'^[a-z][a-z-]*\s+"((?:[^"\\]|\\.)*)"(?:\s*:\s*(.*)|\s+[^:]*)?$')
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.+)$")
_ROLE_ONLY = re.compile(r"^[a-z][a-z-]*\s*:\s*(.*)$")
_BARE_ROLE = re.compile(r"^[a-z][a-z-]*:?$")

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w$.,])\+?\(?\d[\d\s().-]{5,}\d(?![\w.,]\d)")
PRICE = re.compile(
    r"(?:[$€£¥]\s?\d[\d,]*(?:\.\d{1,2})?|\d[\d,]*(?:\.\d{1,2})?\s?(?:USD|EUR|GBP|€|\$))(?![\d])"
)
SUBJECT_WINDOW = 4  # lines after a name in which its price may appear
HEADING = re.compile(r'heading\s+"((?:[^"\\]|\\.)*)"(?:.*?level=(\d))?')


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value.replace('\\"', '"')


def plain_lines(text: str) -> list[str]:
    """The visible strings of an accessibility-tree rendering, one per line, markup removed."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = _BRACKETS.sub("", raw).strip()
        line = line.removeprefix("- ").strip()
        if not line or line.startswith("/url:") or line.startswith("/placeholder:"):
            continue
        heading = _MARKDOWN_HEADING.match(line)
        if heading:
            lines.append(heading.group(2).strip())
            continue
        match = _ROLE_NAME.match(line)
        if match:
            name, rest = _unquote(match.group(1)), (match.group(2) or "").strip()
            if name:
                lines.append(name)
            if rest:
                lines.append(_unquote(rest))
            continue
        match = _ROLE_ONLY.match(line)
        if match:
            rest = _unquote(match.group(1))
            if rest:
                lines.append(rest)
            continue
        if _BARE_ROLE.match(line):
            continue
        lines.append(_unquote(line))
    return lines


def find_emails(lines: list[str]) -> list[str]:
    found: list[str] = []
    for line in lines:
        for match in EMAIL.findall(line):
            if match not in found:
                found.append(match)
    return found


def find_phones(lines: list[str]) -> list[str]:
    """Phone numbers, those labelled as such ("Phone:", "Tel") first."""
    labelled: list[str] = []
    other: list[str] = []
    for index, line in enumerate(lines):
        context = (lines[index - 1] if index else "") + " " + line
        for match in PHONE.findall(line):
            number = match.strip()
            digits = sum(c.isdigit() for c in number)
            if not 7 <= digits <= 15 or re.fullmatch(r"[\d.]+", number):
                continue
            is_labelled = re.search(r"\b(phone|tel|telephone|call|mobile)\b", context, re.I)
            bucket = labelled if is_labelled else other
            if number not in bucket:
                bucket.append(number)
    return labelled + other


def find_prices(lines: list[str], subject: str | None = None) -> list[str]:
    """Prices; standalone ones (a line that is just a price) before prices inside sentences.

    With ``subject`` (e.g. a product name) only prices in the few lines after it count; a line
    that is exactly the subject (a product card's link) is preferred to one that mentions it.
    """
    start, stop = 0, len(lines)
    if subject:
        wanted = subject.lower().strip()
        exact = [i for i, line in enumerate(lines) if line.lower().strip() == wanted]
        hits = exact or [i for i, line in enumerate(lines) if wanted in line.lower()]
        if not hits:
            return []
        start, stop = hits[0], min(len(lines), hits[0] + SUBJECT_WINDOW)
    standalone: list[str] = []
    embedded: list[str] = []
    for line in lines[start:stop]:
        for match in PRICE.findall(line):
            price = match.strip()
            bucket = standalone if line.strip() == price else embedded
            bucket.append(price)
    return standalone + embedded


def find_heading(text: str) -> str | None:
    """The main heading: the first level-1 heading, else the first heading of any level."""
    headings = [(m.group(1), m.group(2)) for m in HEADING.finditer(text)]
    for name, level in headings:
        if level == "1":
            return _unquote(f'"{name}"')
    if headings:
        return _unquote(f'"{headings[0][0]}"')
    markdown = [m for m in map(_MARKDOWN_HEADING.match, text.splitlines()) if m]
    for match in markdown:
        if len(match.group(1)) == 1:
            return match.group(2).strip()
    return markdown[0].group(2).strip() if markdown else None


def find_labelled(lines: list[str], label: str) -> str | None:
    """The value shown next to ``label``: "Label: value" on one line, or the line after it."""
    wanted = label.lower().strip()
    if not wanted:
        return None
    for index, line in enumerate(lines):
        lowered = line.lower()
        position = lowered.find(wanted)
        if position < 0:
            continue
        rest = line[position + len(wanted) :].strip(" :|-–—\t")
        # "SKU LG-101 · Rated 4.8 …": keep the part that belongs to this label.
        rest = re.split(r"\s+[·|•]\s+|;\s", rest)[0].strip()
        if rest and len(rest) <= 200:
            return rest
        if not rest and index + 1 < len(lines):
            following = lines[index + 1].strip()
            if following and len(following) <= 200:
                return following
    return None
