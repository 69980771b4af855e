"""Page and tab actions: navigation, tabs, keys, scrolling, waiting, scrape, script, completion."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Response
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from lanterna.actions.context import ActionContext
from lanterna.actions.form_fill import form_fill
from lanterna.actions.locate import ActionFailed, locate_element
from lanterna.browser.egress import Rule
from lanterna.browser.errors import first_line
from lanterna.errors import LanternaError
from lanterna.models.actions import (
    NOT_OFFERED,
    BrowserAction,
    CaptchaSolve,
    CloseTab,
    Completion,
    EmailRead,
    EvaluateJs,
    FormFill,
    GoBack,
    GoForward,
    Goto,
    GotoNewTab,
    Help,
    PressKey,
    Reload,
    Scrape,
    ScrollDown,
    ScrollUp,
    SmsRead,
    SwitchTab,
    Wait,
)
from lanterna.models.scrape import DataSpace, StructuredData

LOAD_GRACE_MS = 3000  # after DOMContentLoaded, how long to give images and scripts to finish
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_LOCAL_HOST = re.compile(r"^(localhost|127\.|\[::1\]|0\.0\.0\.0)")

# The scroller of an element: itself when it scrolls, else its nearest scrolling ancestor.
_SCROLL_ELEMENT_JS = """(e, dy) => {
  const scrolls = n => n.scrollHeight > n.clientHeight + 1 &&
    (/(auto|scroll|overlay)/.test(getComputedStyle(n).overflowY) || n.tagName === 'TEXTAREA');
  let n = e;
  while (n && n.nodeType === 1 && !scrolls(n)) n = n.parentElement;
  if (!n || n === document.documentElement || n === document.body) return null;
  if (dy === null) dy = 0;
  const before = n.scrollTop;
  n.scrollBy({top: dy, behavior: 'instant'});
  return {before: Math.round(before), after: Math.round(n.scrollTop), height: n.clientHeight,
          max: Math.max(0, Math.round(n.scrollHeight - n.clientHeight)), self: n === e,
          name: n.tagName.toLowerCase() + (n.id ? '#' + n.id : '')};
}"""

# Elements in view that scroll on their own, and how far they can go each way (for a hint).
_INNER_SCROLLERS_JS = """() => {
  const out = [];
  for (const n of document.querySelectorAll('body *')) {
    if (n.scrollHeight <= n.clientHeight + 1 || n.clientHeight < 20) continue;
    if (!(/(auto|scroll|overlay)/.test(getComputedStyle(n).overflowY) || n.tagName === 'TEXTAREA')) continue;
    const r = n.getBoundingClientRect();
    if (r.bottom < 0 || r.top > innerHeight) continue;
    const cls = n.classList.length ? '.' + n.classList[0] : '';
    out.push({name: n.tagName.toLowerCase() + (n.id ? '#' + n.id : cls),
              down: Math.round(n.scrollHeight - n.clientHeight - n.scrollTop), up: Math.round(n.scrollTop)});
    if (out.length >= 3) break;
  }
  return out;
}"""

_SCROLL_JS = """dy => {
  const before = window.scrollY;
  window.scrollBy(0, dy);
  const d = document.documentElement;
  return {before: Math.round(before), after: Math.round(window.scrollY),
          max: Math.max(0, Math.round(d.scrollHeight - window.innerHeight)), vh: window.innerHeight};
}"""


def normalise_url(url: str) -> str:
    """Add the scheme people leave out: ``example.com`` → ``https://example.com``."""
    url = url.strip()
    if not url:
        raise ActionFailed("the URL is empty; give an address such as https://example.com")
    if _SCHEME.match(url) and not re.match(r"^[^/]+:\d+(/|$)", url):
        return url
    return ("http://" if _LOCAL_HOST.match(url) else "https://") + url


async def run_browser_action(ctx: ActionContext, action: BrowserAction) -> tuple[str, DataSpace | None]:
    """Run a page or tab action and return its success message and data."""
    if isinstance(action, Goto):
        return await _goto(ctx, ctx.page, action.url), None
    if isinstance(action, GotoNewTab):
        page = await ctx.session.context.new_page()
        ctx.session.activate(page)
        message = await _goto(ctx, page, action.url)
        return f"opened a new tab (now active); {message}", None
    if isinstance(action, SwitchTab):
        return await _switch_tab(ctx, action.tab_index), None
    if isinstance(action, CloseTab):
        return await _close_tab(ctx), None
    if isinstance(action, GoBack | GoForward | Reload):
        return await _history(ctx, action), None
    if isinstance(action, Wait):
        await asyncio.sleep(action.time_ms / 1000)
        return f"waited {action.time_ms} ms", None
    if isinstance(action, PressKey):
        return await _press_key(ctx, action.key), None
    if isinstance(action, ScrollUp | ScrollDown):
        return await _scroll(ctx, action), None
    if isinstance(action, Scrape):
        return await _scrape(ctx, action)
    if isinstance(action, EvaluateJs):
        return await _evaluate(ctx, action.code)
    if isinstance(action, Completion):
        return action.answer, None
    if isinstance(action, FormFill):
        return await form_fill(ctx, action), None
    if isinstance(action, CaptchaSolve | Help | EmailRead | SmsRead):
        raise ActionFailed(f"{action.type} is not offered: {NOT_OFFERED[action.type]}")
    raise ActionFailed(f"unsupported action '{action.type}'")


def _check_status(response: Response | None) -> None:
    if response is not None and response.status >= 400:
        reason = f" {response.status_text}" if response.status_text else ""
        raise ActionFailed(
            f"HTTP {response.status}{reason} at {response.url}; the page is an error page — "
            "check the address or go back"
        )


async def _goto(ctx: ActionContext, page: Page, raw_url: str) -> str:
    url = normalise_url(raw_url)
    refusal = ctx.session.egress.check_url(url)
    if refusal is not None:
        raise ActionFailed(refusal.message)
    refused_before = len(ctx.session.refusals)
    try:
        response = await page.goto(url, wait_until="domcontentloaded", timeout=ctx.navigation_timeout_ms)
    except PlaywrightTimeoutError as exc:
        raise ActionFailed(
            f"{url} did not load within {ctx.navigation_timeout_ms} ms; try again or another address"
        ) from exc
    except PlaywrightError as exc:
        await _error_page_committed(page, exc)
        raise ActionFailed(
            _refused_since(ctx, refused_before) or f"could not open {url}: {_net_error(exc)}"
        ) from exc
    await _load_grace(page)
    if response is not None and response.status == 403 and (message := _refused_since(ctx, refused_before)):
        raise ActionFailed(message)  # the proxy refused the address a name resolved to, or a redirect
    _check_status(response)
    return f"navigated to {page.url}"


def _refused_since(ctx: ActionContext, count_before: int) -> str | None:
    """Why the egress proxy refused this navigation (or a redirect of it), if it did."""
    refusals = list(ctx.session.refusals)
    new = refusals[count_before:] if count_before <= len(refusals) else refusals[-1:]
    if not new:
        return None
    refusal = new[0]
    if refusal.rule is Rule.UNRESOLVABLE:
        return (
            f"could not open {refusal.target}: ERR_NAME_NOT_RESOLVED "
            "(the host name does not resolve; check the address)"
        )
    return refusal.message


def _net_error(exc: PlaywrightError) -> str:
    message = first_line(exc)
    match = re.search(r"net::(ERR_[A-Z_]+)", message)
    if not match:
        return message
    code = match.group(1)
    hints = {
        "ERR_NAME_NOT_RESOLVED": "the host name does not resolve; check the address",
        "ERR_CONNECTION_REFUSED": "nothing answers at that address; check host and port",
        "ERR_INTERNET_DISCONNECTED": "no network connection",
        "ERR_ABORTED": "the navigation was aborted (the page may have started a download)",
    }
    return f"{code}" + (f" ({hints[code]})" if code in hints else "")


async def _error_page_committed(page: Page, exc: PlaywrightError) -> None:
    """After a network error Chromium commits its error page a moment later; wait for it so
    that the next navigation is not interrupted by it."""
    if "net::ERR_" in str(exc) and "ERR_ABORTED" not in str(exc):
        with contextlib.suppress(PlaywrightError):
            await page.wait_for_url("chrome-error://**", timeout=2000)


async def _load_grace(page: Page) -> None:
    with contextlib.suppress(PlaywrightError):
        await page.wait_for_load_state("load", timeout=LOAD_GRACE_MS)


async def _switch_tab(ctx: ActionContext, index: int) -> str:
    tabs = ctx.session.tabs
    if not 0 <= index < len(tabs):
        raise ActionFailed(f"no tab with index {index}; open tabs are 0 to {len(tabs) - 1}")
    page = tabs[index]
    ctx.session.activate(page)
    with contextlib.suppress(PlaywrightError):
        await page.bring_to_front()
    return f"switched to tab {index}: {page.url}"


async def _close_tab(ctx: ActionContext) -> str:
    tabs = ctx.session.tabs
    if len(tabs) <= 1:
        raise ActionFailed("cannot close the only tab; navigate elsewhere with goto or stop the session")
    page = ctx.page
    index = tabs.index(page) if page in tabs else len(tabs) - 1
    await page.close()
    remaining = ctx.session.tabs
    active = remaining[min(index, len(remaining) - 1)]
    ctx.session.activate(active)
    return f"closed tab {index}; the active tab is now {remaining.index(active)}: {active.url}"


async def _history(ctx: ActionContext, action: GoBack | GoForward | Reload) -> str:
    page = ctx.page
    timeout = ctx.navigation_timeout_ms
    url_before = page.url
    try:
        # Playwright answers None when there is no such history entry (or for in-page moves).
        if isinstance(action, GoBack):
            response = await page.go_back(wait_until="domcontentloaded", timeout=timeout)
            if response is None and page.url == url_before:
                raise ActionFailed("there is no previous page in this tab's history")
        elif isinstance(action, GoForward):
            response = await page.go_forward(wait_until="domcontentloaded", timeout=timeout)
            if response is None and page.url == url_before:
                raise ActionFailed("there is no next page in this tab's history")
        else:
            response = await page.reload(wait_until="domcontentloaded", timeout=timeout)
    except PlaywrightTimeoutError as exc:
        raise ActionFailed(f"the page did not load within {timeout} ms") from exc
    except PlaywrightError as exc:
        await _error_page_committed(page, exc)
        raise ActionFailed(f"{action.type.replace('_', ' ')} failed: {_net_error(exc)}") from exc
    await _load_grace(page)
    _check_status(response)
    verb = {"go_back": "went back to", "go_forward": "went forward to", "reload": "reloaded"}[action.type]
    return f"{verb} {page.url}"


async def _press_key(ctx: ActionContext, key: str) -> str:
    page = ctx.page
    try:
        await page.keyboard.press(key)
    except PlaywrightError as exc:
        raise ActionFailed(
            f"cannot press '{key}': {first_line(exc)}; use key names such as Enter, Tab, Escape, "
            "ArrowDown, PageDown or combinations such as Control+A"
        ) from exc
    await ctx.settle(page)
    return f"pressed {key}"


async def _scroll_element(ctx: ActionContext, action: ScrollUp | ScrollDown) -> str:
    target = await locate_element(ctx, action.id, action.selector, ctx.timeout_ms)
    down = isinstance(action, ScrollDown)
    try:
        probe = await target.locator.evaluate(_SCROLL_ELEMENT_JS, 0, timeout=ctx.timeout_ms)
        if probe is None:
            raise ActionFailed(
                f"{target.label} does not scroll and is not inside a scrolling element; "
                "scroll the page (scroll_down without a selector) instead"
            )
        amount = action.amount if action.amount is not None else max(int(probe["height"]) - 40, 40)
        dy = amount if down else -amount
        pos = await target.locator.evaluate(_SCROLL_ELEMENT_JS, dy, timeout=ctx.timeout_ms)
    except PlaywrightError as exc:
        raise ActionFailed(f"could not scroll {target.label}: {first_line(exc)}") from exc
    where = target.label if pos["self"] else f"{pos['name']} (the scroller around {target.label})"
    moved = pos["after"] - pos["before"]
    if moved == 0:
        edge = "bottom" if down else "top"
        return f"{where} is already at its {edge} (scroll position {pos['after']} of {pos['max']} px)"
    direction = "down" if down else "up"
    return f"scrolled {where} {direction} {abs(moved)} px (now at {pos['after']} of {pos['max']} px)"


async def _scroll(ctx: ActionContext, action: ScrollUp | ScrollDown) -> str:
    if action.id or action.selector:
        return await _scroll_element(ctx, action)
    page = ctx.page
    viewport = page.viewport_size or {"height": 720}
    amount = action.amount if action.amount is not None else viewport["height"]
    dy = amount if isinstance(action, ScrollDown) else -amount
    try:
        pos = await page.evaluate(_SCROLL_JS, dy)
    except PlaywrightError as exc:
        raise ActionFailed(f"could not scroll: {first_line(exc)}") from exc
    moved = pos["after"] - pos["before"]
    direction = "down" if dy > 0 else "up"
    if moved == 0:
        edge = "bottom" if dy > 0 else "top"
        message = f"already at the {edge} of the page (scroll position {pos['after']} of {pos['max']} px)"
        inner: list[dict[str, Any]] = []
        with contextlib.suppress(PlaywrightError):
            inner = await page.evaluate(_INNER_SCROLLERS_JS)
        way = "down" if dy > 0 else "up"
        more = [f"{s['name']} ({s[way]} px more)" for s in inner if s[way] > 0]
        if more:
            message += f"; these elements scroll on their own: {', '.join(more)} — give one as 'selector'"
        return message
    return f"scrolled {direction} {abs(moved)} px (now at {pos['after']} of {pos['max']} px)"


async def _scrape(ctx: ActionContext, action: Scrape) -> tuple[str, DataSpace]:
    if ctx.scraper is None:
        raise ActionFailed("scrape is not available here; scrape through a session or an agent")
    try:
        data = await ctx.scraper(ctx.page, action)
    except LanternaError as exc:
        raise ActionFailed(exc.message) from exc
    if action.only_images:
        return f"found {len(data.images or [])} images", data
    return f"scraped {len(data.markdown)} characters of markdown", data


async def _evaluate(ctx: ActionContext, code: str) -> tuple[str, DataSpace]:
    try:
        result: Any = await ctx.page.evaluate(code)
    except PlaywrightError as exc:
        raise ActionFailed(f"the script failed: {first_line(exc)}") from exc
    # Clients read ``data`` as an object or a list of objects: anything else is kept under "result".
    is_records = isinstance(result, list) and all(isinstance(item, dict) for item in result)
    structured = StructuredData(
        success=True, data=result if isinstance(result, dict) or is_records else {"result": result}
    )
    text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)
    shown = text if len(text) <= 200 else text[:199] + "…"
    return f"the script returned {shown}", DataSpace(markdown=text, structured=structured)
