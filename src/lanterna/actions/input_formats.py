"""Human dates and times in the formats ``<input type=date|time|…>`` accept.

Such inputs keep only a value in their own format (``2016-10-22``, ``20:17``); anything else is
dropped without an error. People and models write ``10/22/2016`` or ``8:17 AM``: convert those,
and say which format a field wants when a value cannot be read. Pure functions, no browser.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from enum import StrEnum


class InputKind(StrEnum):
    """The ``type`` of an input whose value has a fixed machine format."""

    DATE = "date"
    TIME = "time"
    DATETIME_LOCAL = "datetime-local"
    MONTH = "month"
    WEEK = "week"


WANTED: dict[InputKind, str] = {
    InputKind.DATE: "a date such as 2016-10-22 or 10/22/2016",
    InputKind.TIME: "a time such as 20:17 or 8:17 PM",
    InputKind.DATETIME_LOCAL: "a date and time such as 2016-10-22T20:17 or 10/22/2016 8:17 PM",
    InputKind.MONTH: "a month such as 2016-10, 10/2016 or October 2016",
    InputKind.WEEK: "a week such as 2016-W42",
}

_DATE_FORMATS = (
    "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%d.%m.%Y", "%Y/%m/%d",
    "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d %b %Y", "%d %B %Y",
)  # fmt: skip
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$|^(?:week\s*)?(\d{1,2})[,/ ]+(\d{4})$", re.IGNORECASE)
_MONTH_FORMATS = ("%Y-%m", "%m/%Y", "%m-%Y", "%b %Y", "%B %Y", "%Y/%m")


def input_kind(input_type: str) -> InputKind | None:
    """The kind of a fixed-format input, or None for free text."""
    try:
        return InputKind(input_type.lower())
    except ValueError:
        return None


def to_input_value(kind: InputKind, text: str) -> str | None:
    """``text`` in the input's own format, or None when it cannot be read as one."""
    text = " ".join(text.split())
    if kind is InputKind.DATE:
        day = _parse_date(text)
        return day.isoformat() if day else None
    if kind is InputKind.TIME:
        moment = _parse_time(text)
        return _format_time(moment) if moment else None
    if kind is InputKind.DATETIME_LOCAL:
        return _datetime_value(text)
    if kind is InputKind.MONTH:
        return _month_value(text)
    return _week_value(text)


def _parse_date(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _parse_time(text: str) -> time | None:
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute, second = int(match[1]), int(match[2] or 0), int(match[3] or 0)
    meridiem = (match[4] or "").replace(".", "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif match[2] is None:
        return None  # a bare number is not a time
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _format_time(moment: time) -> str:
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def _datetime_value(text: str) -> str | None:
    for sep in ("T", " ", ", "):
        # Split at each separator in turn: the date part may itself contain spaces ("Oct 22, 2016").
        for i in [m.start() for m in re.finditer(re.escape(sep), text)]:
            day, moment = _parse_date(text[:i].strip(" ,")), _parse_time(text[i + len(sep) :].strip())
            if day and moment:
                return f"{day.isoformat()}T{_format_time(moment)}"
    return None


def _month_value(text: str) -> str | None:
    for fmt in _MONTH_FORMATS:
        try:
            return datetime.strptime(text, fmt).strftime("%Y-%m")
        except ValueError:
            continue
    day = _parse_date(text)
    return day.strftime("%Y-%m") if day else None


def _week_value(text: str) -> str | None:
    match = _WEEK.match(text)
    if match:
        year, week = (int(match[1]), int(match[2])) if match[1] else (int(match[4]), int(match[3]))
    else:
        day = _parse_date(text)
        if day is None:
            return None
        year, week, _ = day.isocalendar()
    if not 1 <= week <= 53:
        return None
    return f"{year:04d}-W{week:02d}"
