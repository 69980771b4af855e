"""One browser session: an isolated Chromium, its Playwright context and tabs."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page
from playwright.async_api import Error as PlaywrightError
from pydantic import BaseModel, Field

from lanterna.browser.chromium import DEFAULT_WINDOW, ChromiumProcess
from lanterna.browser.cookies import cookie_from_playwright, cookie_to_playwright
from lanterna.browser.egress import EgressPolicy, EgressRefusal
from lanterna.browser.proxy import EgressProxy
from lanterna.config import Settings, get_settings
from lanterna.errors import InvalidRequestError
from lanterna.models.cookies import Cookie
from lanterna.models.time import utc_now


class SessionOptions(BaseModel):
    """Per-session launch and context options. ``chrome_args`` or ``user_agent`` force a cold launch."""

    viewport_width: int | None = Field(default=None, ge=100, le=7680)
    viewport_height: int | None = Field(default=None, ge=100, le=4320)
    user_agent: str | None = None
    chrome_args: list[str] | None = None
    idle_timeout_s: float | None = Field(default=None, gt=0)
    max_duration_s: float | None = Field(default=None, gt=0)

    @property
    def needs_cold_launch(self) -> bool:
        """Options a warm browser cannot take on after start."""
        return bool(self.chrome_args) or bool(self.user_agent)


class BrowserSession:
    """The Playwright side of one browser. The pool creates, reaps and releases it.

    ``page`` is the active tab: a tab opened by the page (link with target=_blank,
    window.open) becomes active; closing the active tab activates the last one left.
    Callers serialise page operations with ``lock``.
    """

    def __init__(
        self,
        session_id: str,
        chromium: ChromiumProcess,
        browser: Browser,
        options: SessionOptions,
        settings: Settings | None = None,
        egress: EgressPolicy | None = None,
        proxy: EgressProxy | None = None,
        *,
        context: BrowserContext | None = None,
        browser_context_id: str | None = None,
    ) -> None:
        self.id = session_id
        # What this session's pages may reach; also judged by the proxy the browser must use.
        self.egress = egress or EgressPolicy()
        # The forward proxy all of this browser's traffic goes through, and the latest requests
        # it refused (subresources included).
        self.proxy = proxy
        # A proxy shared by several contexts cannot tell whose request it refused: none are shown.
        shared = context is not None
        self.refusals: deque[EgressRefusal] = (
            proxy.refusals if proxy is not None and not shared else deque(maxlen=100)
        )
        self.settings = settings or get_settings()  # timeouts for actions on this session
        self.chromium = chromium
        self.browser = browser
        self.options = options
        # In context isolation the session owns one browser context of a shared browser.
        self.context: BrowserContext = context if context is not None else browser.contexts[0]
        self.browser_context_id = browser_context_id
        pages = self.context.pages
        self.page: Page = pages[0] if pages else None  # type: ignore[assignment]  # set in prepare()
        self.downloads_dir: Path = chromium.profile_dir / "downloads"
        if shared:
            self.downloads_dir = self.downloads_dir / session_id
        self.created_at = utc_now()
        self.last_active_at = self.created_at
        self.closed_reason: str | None = None  # set once, when the pool releases the session
        # Set once the pool has killed its browser (or closed its context and proven it gone, or
        # retired the browser): release may return before that, off the caller's path.
        self.released = asyncio.Event()
        self.lock = asyncio.Lock()
        # Awaited by the pool when the session ends, while its browser still runs (e.g. to save
        # its state); each gets BEFORE_RELEASE_TIMEOUT_S, and a failure does not stop the release.
        self.before_release: list[Callable[[BrowserSession], Awaitable[None]]] = []
        self._background: set[asyncio.Task[None]] = set()
        self.context.on("page", self._on_new_page)
        for page in pages:
            page.on("close", self._on_page_closed)

    @property
    def pid(self) -> int:
        return self.chromium.pid

    @property
    def cdp_url(self) -> str:
        """The browser's own loopback websocket (``ws://127.0.0.1:<port>/devtools/browser/<id>``)."""
        return self.chromium.cdp_url

    @property
    def closed(self) -> bool:
        """Whether the pool has released the session (it then has a ``closed_reason``)."""
        return self.closed_reason is not None

    @property
    def tabs(self) -> list[Page]:
        """Open tabs in the order they were opened."""
        return [p for p in self.context.pages if not p.is_closed()]

    @property
    def viewport(self) -> tuple[int, int]:
        """Viewport of every tab (emulated: a headless window's inner size is smaller than the window)."""
        return (
            self.options.viewport_width or DEFAULT_WINDOW[0],
            self.options.viewport_height or DEFAULT_WINDOW[1],
        )

    def touch(self) -> None:
        """Reset the idle timer."""
        self.last_active_at = utc_now()

    async def cookies(self) -> list[Cookie]:
        """Every cookie of the session's browser context."""
        return [cookie_from_playwright(dict(c)) for c in await self.context.cookies()]

    async def add_cookies(self, cookies: list[Cookie]) -> None:
        """Add cookies to the context; ``InvalidRequestError`` when the browser refuses them."""
        try:
            await self.context.add_cookies([cookie_to_playwright(c) for c in cookies])
        except PlaywrightError as exc:
            raise InvalidRequestError(f"the browser refused the cookies: {exc.message}") from exc

    async def tab_targets(self) -> list[dict[str, Any]]:
        """CDP ``Target.getTargetInfo`` of each open tab, in tab order (tabs closing meanwhile left out)."""
        targets = []
        for page in self.tabs:
            try:
                cdp = await self.context.new_cdp_session(page)
            except PlaywrightError:
                continue  # closed since the list was taken
            try:
                info = await cdp.send("Target.getTargetInfo")
            except PlaywrightError:
                continue
            finally:
                with contextlib.suppress(PlaywrightError):
                    await cdp.detach()
            targets.append(info["targetInfo"])
        return targets

    async def target_url(self, target_id: str) -> str | None:
        """The URL target ``target_id`` shows; None when the browser knows no such target."""
        cdp = await self.browser.new_browser_cdp_session()
        try:
            info = await cdp.send("Target.getTargetInfo", {"targetId": target_id})
        except PlaywrightError:
            return None
        finally:
            with contextlib.suppress(PlaywrightError):
                await cdp.detach()
        url: str = info["targetInfo"].get("url", "")
        return url

    async def prepare(self) -> None:
        """Make the session ready: a first tab, default timeouts, viewport, downloads folder."""
        self.downloads_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.chromium.uid is not None:  # the browser's own user writes its downloads
            os.chown(self.downloads_dir, self.chromium.uid, self.chromium.uid)
        self.context.set_default_timeout(self.settings.action_timeout_ms)
        self.context.set_default_navigation_timeout(self.settings.navigation_timeout_ms)
        if self.page is None or self.page.is_closed():
            self.page = await self.context.new_page()  # also registered by _on_new_page
        await self._prepare_page(self.page)

    async def _prepare_page(self, page: Page) -> None:
        width, height = self.viewport
        if page.viewport_size == {"width": width, "height": height}:
            return
        with contextlib.suppress(Exception):  # the tab may close meanwhile
            await page.set_viewport_size({"width": width, "height": height})

    def _on_new_page(self, page: Page) -> None:
        # A link or script opened a tab: follow it, as a user would.
        self.page = page
        page.on("close", self._on_page_closed)
        task = asyncio.ensure_future(self._prepare_page(page))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_page_closed(self, page: Page) -> None:
        if page is self.page:
            remaining = self.tabs
            if remaining:
                self.page = remaining[-1]

    def activate(self, page: Page) -> None:
        """Make ``page`` the active tab."""
        self.page = page

    def __repr__(self) -> str:
        state = f"closed: {self.closed_reason}" if self.closed else "live"
        return f"<BrowserSession {self.id} pid={self.pid} {state}>"
