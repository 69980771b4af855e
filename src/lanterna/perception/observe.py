"""``observe()``: the active tab of a session as an ``Observation``."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from lanterna.browser.errors import first_line
from lanterna.browser.session import BrowserSession
from lanterna.errors import ConflictError, LanternaError
from lanterna.models.observation import Observation, PageMetadata, TabInfo, Viewport
from lanterna.models.time import utc_now
from lanterna.perception.clickables import MARK, MAX_CLICKABLES, PROBE_JS, ClickableIndex, parse_clickables
from lanterna.perception.latest import LatestObservation
from lanterna.perception.render import render_nodes
from lanterna.perception.snapshot import parse_snapshot

SCREENSHOT_QUALITY = 70
SNAPSHOT_TIMEOUT_MS = 10_000
# Less than this below or above the viewport is not worth a hint.
SCROLL_HINT_MIN_PX = 40

_METRICS_JS = """() => {
  const d = document.documentElement, b = document.body;
  return {
    title: document.title,
    sx: Math.round(window.scrollX), sy: Math.round(window.scrollY),
    vw: window.innerWidth, vh: window.innerHeight,
    tw: Math.max(d ? d.scrollWidth : 0, b ? b.scrollWidth : 0),
    th: Math.max(d ? d.scrollHeight : 0, b ? b.scrollHeight : 0),
  };
}"""


async def observe(
    session: BrowserSession,
    *,
    screenshot: bool = False,
    full_page: bool = False,
    probe: bool = True,
    latest: LatestObservation | None = None,
) -> Observation:
    """Snapshot the active tab: metadata, addressable elements with short ids, and a text view.

    The observation replaces the one in ``latest``; its element ids stay valid until the next
    ``observe`` of this session, for ``execute`` given the same ``latest``. ``probe`` also looks
    for clickable elements the accessibility tree does not call interactive (one more page
    script, run alongside the snapshot; it marks them with a ``data-lanterna-click`` attribute);
    False gives the tree alone.
    """
    if session.closed:
        raise ConflictError(f"session {session.id} is closed ({session.closed_reason})")
    started_at = utc_now()
    session.touch()
    page = session.page
    snapshot, metrics, found = await _capture(page, probe)
    nodes = parse_snapshot(snapshot)
    rendering = render_nodes(nodes, ClickableIndex(parse_clickables(found)) if probe else None)
    viewport = Viewport(
        scroll_x=metrics.get("sx", 0),
        scroll_y=metrics.get("sy", 0),
        viewport_width=metrics.get("vw", 0),
        viewport_height=metrics.get("vh", 0),
        total_width=metrics.get("tw", 0),
        total_height=metrics.get("th", 0),
    )
    title = str(metrics.get("title") or "")
    tabs = await _tabs(session, page, title)
    metadata = PageMetadata(title=title, url=page.url, viewport=viewport, tabs=tabs, timestamp=started_at)
    image = ""
    if screenshot:
        data = await page.screenshot(type="jpeg", quality=SCREENSHOT_QUALITY, full_page=full_page)
        image = base64.b64encode(data).decode("ascii")
    text = "\n".join([*_header(metadata, session, page), *rendering.lines, *_footer(viewport)])
    observation = Observation(
        metadata=metadata,
        elements=rendering.elements,
        text=text,
        screenshot=image,
        started_at=started_at,
        ended_at=utc_now(),
    )
    if latest is not None:
        latest.remember(observation, page)
    return observation


async def _capture(page: Page, probe: bool) -> tuple[str, dict[str, Any], Any]:
    """The AI snapshot, the scroll metrics and (with ``probe``) the clickables, taken together;
    retried once across a navigation."""
    for attempt in range(2):
        try:
            # page.evaluate has no timeout of its own: a page stuck in a script must not hang us.
            snapshot, metrics, found = await asyncio.wait_for(
                asyncio.gather(
                    page.aria_snapshot(mode="ai", timeout=SNAPSHOT_TIMEOUT_MS),
                    page.evaluate(_METRICS_JS),
                    page.evaluate(PROBE_JS, [MARK, MAX_CLICKABLES]) if probe else _nothing(),
                ),
                timeout=SNAPSHOT_TIMEOUT_MS / 1000 + 2,
            )
            return snapshot, metrics if isinstance(metrics, dict) else {}, found
        except TimeoutError as exc:
            raise LanternaError(
                f"the page did not answer within {SNAPSHOT_TIMEOUT_MS // 1000} s (a script may be "
                "blocking it); reload it or go elsewhere"
            ) from exc
        except PlaywrightError as exc:
            if page.is_closed():
                raise ConflictError("the active tab was closed; switch to another tab") from exc
            if attempt == 1:
                raise LanternaError(f"could not read the page: {first_line(exc)}") from exc
            # A navigation destroyed the document mid-snapshot: wait for the new one.
            with contextlib.suppress(PlaywrightError):
                await page.wait_for_load_state("domcontentloaded", timeout=SNAPSHOT_TIMEOUT_MS)
    raise AssertionError("unreachable")


async def _nothing() -> None:
    return None


async def _tabs(session: BrowserSession, active: Page, active_title: str) -> list[TabInfo]:
    pages = session.tabs

    async def title(p: Page) -> str:
        if p is active:
            return active_title
        try:
            return await p.title()
        except PlaywrightError:
            return ""

    titles = await asyncio.gather(*(title(p) for p in pages))
    return [TabInfo(tab_id=i, title=t, url=p.url) for i, (p, t) in enumerate(zip(pages, titles, strict=True))]


def _header(metadata: PageMetadata, session: BrowserSession, page: Page) -> list[str]:
    lines = [f"url: {metadata.url}", f"title: {metadata.title}"]
    if len(metadata.tabs) > 1:
        active = session.tabs.index(page) if page in session.tabs else -1
        tabs = " | ".join(
            f"{t.tab_id}: {t.title or t.url}{' (active)' if t.tab_id == active else ''}"
            for t in metadata.tabs
        )
        lines.append(f"tabs: {tabs}")
    above = metadata.viewport.scroll_y
    if above >= SCROLL_HINT_MIN_PX:
        lines.append(f"… {above} px more content above — scroll_up to see it")
    lines.append("")
    return lines


def _footer(viewport: Viewport) -> list[str]:
    below = viewport.total_height - viewport.scroll_y - viewport.viewport_height
    if below >= SCROLL_HINT_MIN_PX:
        return ["", f"… {below} px more content below — scroll_down to see it"]
    return []
