"""``execute()``: run one action on a session and report what happened."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from pydantic import ValidationError

from lanterna.actions.browser_actions import run_browser_action
from lanterna.actions.context import ActionContext, Observed, PageScraper
from lanterna.actions.element_actions import run_interaction
from lanterna.actions.locate import ActionFailed
from lanterna.browser.errors import first_line
from lanterna.browser.session import BrowserSession
from lanterna.config import Settings
from lanterna.errors import InvalidRequestError, validation_details
from lanterna.models.actions import Action, ExecutionResult, _InteractionBase, parse_action
from lanterna.models.scrape import DataSpace
from lanterna.models.time import utc_now

# On top of an action's own limits: a last guard so that no action can hang a caller.
GUARD_MARGIN_S = 10.0


async def execute(
    session: BrowserSession,
    action: Action | dict[str, Any],
    *,
    settings: Settings | None = None,
    file_roots: Sequence[Path] = (),
    scraper: PageScraper | None = None,
    observed: Observed | None = None,
) -> ExecutionResult:
    """Run ``action`` on the session's active tab.

    Never raises for an ordinary failure (unknown id, missing element, HTTP error, timeout …):
    the result then has ``success=False`` and a message that says what to do. A dict that is
    not a valid action raises ``InvalidRequestError``. Callers serialise with ``session.lock``.
    Time limits come from ``settings`` or else the session's (``LANTERNA_ACTION_TIMEOUT_MS``,
    ``LANTERNA_NAVIGATION_TIMEOUT_MS``); an action's own ``timeout`` wins for element actions.
    ``upload_file`` takes files only from ``file_roots`` and the session's downloads folder;
    ``scrape`` runs through ``scraper`` (without one it fails with a message). Element ids are
    looked up in ``observed``, the latest observation of the session (from ``observe``).
    """
    try:
        parsed = parse_action(action)
    except ValidationError as exc:
        raise InvalidRequestError("invalid action: " + validation_details(exc)) from exc
    settings = settings or session.settings
    started_at = utc_now()
    session.touch()
    ctx = ActionContext(
        session=session,
        timeout_ms=settings.action_timeout_ms,
        navigation_timeout_ms=settings.navigation_timeout_ms,
        file_roots=tuple(file_roots),
        scraper=scraper,
        observed=observed,
    )
    success, message, data = await _run(ctx, parsed)
    session.touch()
    return ExecutionResult(
        action=parsed,
        success=success,
        message=message,
        data=data,
        started_at=started_at,
        ended_at=utc_now(),
    )


async def _run(ctx: ActionContext, action: Action) -> tuple[bool, str, DataSpace | None]:
    session = ctx.session
    if session.closed:
        return False, f"the session is closed ({session.closed_reason}); start a new session", None
    guard = _guard_seconds(ctx, action)
    try:
        if isinstance(action, _InteractionBase):
            work = run_interaction(ctx, action)
        else:
            work = run_browser_action(ctx, action)
        message, data = await asyncio.wait_for(work, timeout=guard)
    except ActionFailed as exc:
        return False, exc.message, None
    except TimeoutError:
        return False, f"{action.type} did not finish within {guard:.0f} s and was abandoned", None
    except PlaywrightError as exc:
        if session.closed or not session.browser.is_connected():
            return False, "the browser of this session has closed; start a new session", None
        if session.page.is_closed():
            return False, "the active tab was closed; switch_tab to another tab", None
        return False, f"{action.type} failed: {first_line(exc)}", None
    return True, message, data


def _guard_seconds(ctx: ActionContext, action: Action) -> float:
    own = getattr(action, "timeout", None) or ctx.timeout_ms
    wait = getattr(action, "time_ms", 0) or 0
    # An element action may wait for the element, act, then wait for a navigation it started.
    return (2 * own + ctx.navigation_timeout_ms + wait) / 1000 + GUARD_MARGIN_S
