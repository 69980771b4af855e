"""The Chromium flags a tenant may pass in ``chrome_args``: an allow-list, every value validated.

Tenants are hostile and Chromium's command line is a host-level interface: ``--renderer-cmd-prefix``
runs host commands, ``--remote-debugging-address`` exposes DevTools, ``--user-data-dir``,
``--load-extension``, ``--proxy-server``, ``--host-resolver-rules``, ``--no-sandbox`` and
``--disable-web-security`` undo the isolation the operator set up. So nothing is denied by name:
only the flags below are accepted, each written ``--name`` or ``--name=value`` exactly, with a
value matching its pattern. Everything else (single-dash switches, ``--`` alone, bare URLs) is
refused. Operator flags (``LANTERNA_CHROMIUM_ARGS``) are not subject to this list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_ARGS = 32
MAX_ARG_LENGTH = 512

# Feature names whose toggling changes presentation or turns off a background service, never isolation.
DISABLEABLE_FEATURES = frozenset(
    {
        "Translate",
        "TranslateUI",
        "OverlayScrollbar",
        "MediaRouter",
        "DialMediaRouteProvider",
        "GlobalMediaControls",
        "HardwareMediaKeyHandling",
        "OptimizationHints",
        "AutofillServerCommunication",
        "InterestFeedContentSuggestions",
        "PaintHolding",
        "BackForwardCache",
    }
)
ENABLEABLE_FEATURES = frozenset({"OverlayScrollbar", "WebUIDarkMode"})
DISABLEABLE_BLINK_FEATURES = frozenset({"AutomationControlled"})
# ``--blink-settings`` can also switch off the same-origin policy for file URLs: only these keys.
BLINK_SETTINGS = {
    "imagesEnabled": re.compile(r"true|false"),
    "preferredColorScheme": re.compile(r"[0-2]"),
    "forceDarkModeEnabled": re.compile(r"true|false"),
}

_LANG = r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}"
_LANG_RE = re.compile(_LANG)
_ACCEPT_LANG_RE = re.compile(rf"{_LANG}(?:,{_LANG}){{0,9}}")
_WINDOW_RE = re.compile(r"(\d{3,4}),(\d{3,4})")
_SCALE_RE = re.compile(r"[0-4](?:\.\d{1,3})?|5")
# A user agent has spaces and parentheses; still no quotes, control characters or shell metacharacters.
_USER_AGENT_RE = re.compile(r"[A-Za-z0-9 ._/();:,+\-]{1,256}")
_NAMES_RE = re.compile(r"[A-Za-z0-9]{1,64}(?:,[A-Za-z0-9]{1,64}){0,15}")


def _names_in(allowed: frozenset[str]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not _NAMES_RE.fullmatch(value):
            return "a comma-separated list of names"
        unknown = [name for name in value.split(",") if name not in allowed]
        if unknown:
            return f"names from {', '.join(sorted(allowed))} (not {', '.join(unknown)})"
        return None

    return check


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[str], str | None]:
    return lambda value: None if regex.fullmatch(value) else what


def _window_size(value: str) -> str | None:
    what = "W,H in pixels, 200-7680 by 200-4320"
    match = _WINDOW_RE.fullmatch(value)
    if not match:
        return what
    width, height = int(match[1]), int(match[2])
    return None if 200 <= width <= 7680 and 200 <= height <= 4320 else what


def _scale_factor(value: str) -> str | None:
    what = "a number from 0.25 to 5"
    return None if _SCALE_RE.fullmatch(value) and 0.25 <= float(value) <= 5 else what


def _blink_settings(value: str) -> str | None:
    what = "key=value pairs of " + ", ".join(sorted(BLINK_SETTINGS))
    for pair in value.split(","):
        key, sep, setting = pair.partition("=")
        pattern = BLINK_SETTINGS.get(key)
        if not sep or pattern is None or not pattern.fullmatch(setting):
            return what
    return None


@dataclass(frozen=True)
class Flag:
    """One allowed flag: ``--name`` alone (``check`` is None) or ``--name=value``."""

    name: str
    shown: str  # how the help text writes it
    check: Callable[[str], str | None] | None = None  # None if the value is fine, else what it must be


ALLOWED_FLAGS: dict[str, Flag] = {
    flag.name: flag
    for flag in (
        Flag("lang", "--lang=<language tag>", _pattern(_LANG_RE, "a language tag such as en-US")),
        Flag(
            "accept-lang",
            "--accept-lang=<tag>[,<tag>...]",
            _pattern(_ACCEPT_LANG_RE, "comma-separated language tags such as en-US,en"),
        ),
        Flag("window-size", "--window-size=<W>,<H>", _window_size),
        Flag("force-device-scale-factor", "--force-device-scale-factor=<0.25-5>", _scale_factor),
        Flag(
            "user-agent",
            "--user-agent=<text>",
            _pattern(_USER_AGENT_RE, "up to 256 letters, digits, spaces and ._/();:,+-"),
        ),
        Flag("disable-features", "--disable-features=<names>", _names_in(DISABLEABLE_FEATURES)),
        Flag("enable-features", "--enable-features=<names>", _names_in(ENABLEABLE_FEATURES)),
        Flag(
            "disable-blink-features",
            "--disable-blink-features=<names>",
            _names_in(DISABLEABLE_BLINK_FEATURES),
        ),
        Flag("blink-settings", "--blink-settings=<key=value,...>", _blink_settings),
        Flag(
            "font-render-hinting",
            "--font-render-hinting=none|slight|medium|full",
            _pattern(re.compile(r"none|slight|medium|full"), "none, slight, medium or full"),
        ),
        Flag(
            "autoplay-policy",
            "--autoplay-policy=no-user-gesture-required|user-gesture-required",
            _pattern(
                re.compile(r"no-user-gesture-required|user-gesture-required"),
                "no-user-gesture-required or user-gesture-required",
            ),
        ),
        Flag("force-color-profile", "--force-color-profile=srgb", _pattern(re.compile(r"srgb"), "srgb")),
        *(
            Flag(name, f"--{name}")
            for name in (
                "hide-scrollbars",
                "mute-audio",
                "force-dark-mode",
                "disable-notifications",
                "disable-extensions",
                "start-maximized",
                "no-default-browser-check",
                "disable-background-timer-throttling",
                "disable-renderer-backgrounding",
                "disable-backgrounding-occluded-windows",
            )
        ),
    )
}

_SWITCH_RE = re.compile(r"--([a-z0-9][a-z0-9-]{0,63})(?:(=)(.*))?", re.DOTALL)


def allowed_flags_help() -> str:
    """The allowed flags, as a comma-separated list for error messages and docs."""
    return ", ".join(flag.shown for flag in ALLOWED_FLAGS.values())


def _shown(arg: str) -> str:
    name = arg.split("=", 1)[0]
    return repr(name if len(name) <= 60 else name[:60] + "…")


def _problem(arg: str) -> str | None:
    if len(arg) > MAX_ARG_LENGTH:
        return f"{_shown(arg)} is longer than {MAX_ARG_LENGTH} characters"
    match = _SWITCH_RE.fullmatch(arg)
    flag = ALLOWED_FLAGS.get(match[1]) if match else None
    if match is None or flag is None:
        return f"{_shown(arg)} is not an allowed flag"
    has_value, value = match[2] is not None, match[3] or ""
    if flag.check is None:
        return f"'--{flag.name}' takes no value; write it as '--{flag.name}'" if has_value else None
    if not has_value:
        return f"'--{flag.name}' needs a value: {flag.shown}"
    expected = flag.check(value)
    return f"'--{flag.name}' must be {expected}" if expected else None


def chrome_args_problems(args: Sequence[str] | None) -> list[str]:
    """What is wrong with a tenant's ``chrome_args``, one line per refused flag; empty if all are allowed."""
    if not args:
        return []
    if len(args) > MAX_ARGS:
        return [f"chrome_args has {len(args)} flags; at most {MAX_ARGS} are accepted"]
    problems = [f"chrome_args: {p}" for p in (_problem(arg) for arg in args) if p]
    if problems:
        problems.append(f"allowed chrome_args flags: {allowed_flags_help()}")
    return problems
