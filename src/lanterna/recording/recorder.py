"""Capture one browser session: CDP screencast of the active tab, and screenshots on request."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from typing import Any

from playwright.async_api import CDPSession, Page
from playwright.async_api import Error as PlaywrightError
from pydantic import BaseModel, Field

from lanterna.browser import BrowserSession
from lanterna.recording.frames import FrameEntry, FrameKind, FrameLog
from lanterna.recording.hub import FrameHub

log = logging.getLogger(__name__)
SCREENSHOT_TIMEOUT_S = 5.0

# How often the recorder checks whether another tab became the active one.
FOLLOW_INTERVAL_S = 0.25


class CaptureOptions(BaseModel):
    """How frames are captured: at most ``fps`` screencast frames a second, each at most
    ``max_width`` × ``max_height``, JPEG ``quality``."""

    fps: float = Field(default=5.0, gt=0, le=30)
    max_width: int = Field(default=1280, ge=100)
    max_height: int = Field(default=1280, ge=100)
    quality: int = Field(default=60, ge=10, le=100)


class Recorder:
    """Records ``browser`` into ``frames`` and publishes each frame on ``hub``.

    The screencast follows the active tab. Frames that arrive faster than ``fps`` are dropped,
    except the last one of a burst, which is kept once the interval has passed, so the
    recording always ends on what the page shows.
    """

    def __init__(self, browser: BrowserSession, frames: FrameLog, options: CaptureOptions) -> None:
        self.browser = browser
        self.frames = frames
        self.options = options
        self.hub = FrameHub()
        self._page: Page | None = None
        self._cdp: CDPSession | None = None
        self._last_kept = 0.0
        self._pending: bytes | None = None
        self._flush: asyncio.TimerHandle | None = None
        self._follower: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._shots: set[asyncio.Future[FrameEntry | None]] = set()
        self._stopped = False
        self._ready = asyncio.Event()  # set once start() has attached (or failed to)

    @property
    def interval_s(self) -> float:
        return 1.0 / self.options.fps

    @property
    def page_cdp(self) -> CDPSession | None:
        """The CDP session on the tab being recorded (for input on that same tab)."""
        return self._cdp

    async def start(self) -> None:
        """Open the frame log and start the screencast of the active tab."""
        try:
            self.frames.open()
            await self._attach(self.browser.page)
            self._follower = asyncio.create_task(self._follow(), name=f"recorder-{self.browser.id}")
        finally:
            self._ready.set()

    async def stop(self) -> None:
        """Stop capturing; the browser may already be gone. Ends live subscriptions."""
        if self._stopped:
            return
        await self.settle()
        self._stopped = True
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        self._keep_pending()
        self.hub.close()
        # Detaching needs the browser to answer; the session is closing it anyway, so do not wait.
        self._spawn(self._detach())

    async def screenshot(self, kind: FrameKind, label: str | None = None) -> FrameEntry | None:
        """A screenshot of the active tab, stored at once; None if the tab cannot be captured
        within ``SCREENSHOT_TIMEOUT_S`` (a tab that never paints must not hold up an agent).
        It is dated when it was asked for: the moment whose page it shows."""
        asked_at = time.time()
        try:
            return await asyncio.wait_for(self._capture(kind, label, asked_at), SCREENSHOT_TIMEOUT_S)
        except TimeoutError:
            return None

    async def _capture(self, kind: FrameKind, label: str | None, asked_at: float) -> FrameEntry | None:
        await self._ready.wait()
        if self._cdp is None and not self._stopped:  # the last attach met a navigation: try again
            await self._attach(self.browser.page)
        if self._stopped or self._cdp is None:
            return None
        try:
            shot = await self._cdp.send(
                "Page.captureScreenshot",
                {"format": "jpeg", "quality": self.options.quality, "optimizeForSpeed": True},
            )
        except PlaywrightError:
            return None
        jpeg = base64.b64decode(shot["data"])
        return self._store(jpeg, kind, label, asked_at)

    def screenshot_soon(self, kind: FrameKind, label: str | None = None) -> None:
        """Take a screenshot without holding the caller up; ``settle`` waits for it."""
        task = asyncio.ensure_future(self.screenshot(kind, label))
        self._shots.add(task)
        task.add_done_callback(self._shots.discard)

    async def settle(self) -> None:
        """Wait for the screenshots under way (before the page changes again, or before reading)."""
        if self._shots:
            await asyncio.gather(*list(self._shots), return_exceptions=True)

    # ----- the screencast ----------------------------------------------------------------

    async def _attach(self, page: Page) -> None:
        await self._detach()
        self._page = page
        try:
            cdp = await self.browser.context.new_cdp_session(page)
        except PlaywrightError as exc:
            log.debug("cannot record a tab of session %s: %s", self.browser.id, exc.message)
            return
        self._cdp = cdp  # before starting: the first frame may arrive before the answer
        try:
            cdp.on("Page.screencastFrame", lambda params: self._on_frame(cdp, params))
            await cdp.send(
                "Page.startScreencast",
                {
                    "format": "jpeg",
                    "quality": self.options.quality,
                    "maxWidth": self.options.max_width,
                    "maxHeight": self.options.max_height,
                },
            )
        except PlaywrightError as exc:
            log.debug("cannot record a tab of session %s yet: %s", self.browser.id, exc.message)
            self._cdp = None
            self._spawn(cdp.detach())

    async def _detach(self) -> None:
        cdp, self._cdp = self._cdp, None
        if cdp is None:
            return
        with contextlib.suppress(PlaywrightError):
            await cdp.send("Page.stopScreencast")
        with contextlib.suppress(PlaywrightError):
            await cdp.detach()

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(FOLLOW_INTERVAL_S)
            page = self.browser.page
            if self.browser.closed:
                return
            # Another tab became active, or attaching failed (a tab swapping renderers mid-navigation
            # refuses the screencast for a moment): attach again.
            if (page is not self._page or self._cdp is None) and page is not None and not page.is_closed():
                await self._attach(page)

    def _on_frame(self, cdp: CDPSession, params: dict[str, Any]) -> None:
        # The browser sends the next frame only once this one is acknowledged, on its own session.
        self._spawn(cdp.send("Page.screencastFrameAck", {"sessionId": params["sessionId"]}))
        if self._stopped or cdp is not self._cdp:
            return
        jpeg = base64.b64decode(params["data"])
        now = time.monotonic()
        if now - self._last_kept >= self.interval_s:
            self._pending = None
            self._last_kept = now
            self._store(jpeg, FrameKind.screencast)
            return
        self._pending = jpeg  # the newest of a burst; kept when the interval has passed
        if self._flush is None:
            delay = self._last_kept + self.interval_s - now
            self._flush = asyncio.get_running_loop().call_later(delay, self._on_flush)

    def _on_flush(self) -> None:
        self._flush = None
        self._keep_pending()

    def _keep_pending(self) -> None:
        jpeg, self._pending = self._pending, None
        if jpeg is not None:
            self._last_kept = time.monotonic()
            self._store(jpeg, FrameKind.screencast)

    def _store(
        self, jpeg: bytes, kind: FrameKind, label: str | None = None, at: float | None = None
    ) -> FrameEntry | None:
        try:
            entry = self.frames.append(jpeg, time.time() if at is None else at, kind, label)
        except OSError as exc:  # a full disk must not break the session
            log.warning("recording of session %s lost a frame: %s", self.browser.id, exc)
            return None
        self.hub.publish(jpeg)
        return entry

    def _spawn(self, coro: Any) -> None:
        """Run ``coro`` in the background; its failure (tab or browser gone) is expected."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(_forget(self._tasks))


def _forget(tasks: set[asyncio.Task[Any]]) -> Any:
    def done(task: asyncio.Task[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # a failed ack (tab closed) is expected; do not log it as unretrieved

    return done
