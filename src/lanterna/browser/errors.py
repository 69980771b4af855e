"""Playwright's exceptions, cut down to what a user can act on."""

from __future__ import annotations

import re

_API_PREFIX = re.compile(r"^\w+\.\w+: ")  # "Locator.click: ", "Page.goto: "


def first_line(exc: BaseException) -> str:
    """The useful part of a Playwright error: its first line without the API name prefix."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return _API_PREFIX.sub("", line).removeprefix("Error: ").strip()
