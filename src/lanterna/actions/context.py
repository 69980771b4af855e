"""What an action handler needs besides the action: the session and its time limits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from lanterna.browser.session import BrowserSession
from lanterna.models.actions import Scrape
from lanterna.models.observation import Observation
from lanterna.models.scrape import DataSpace

# Scraping lives in its own layer beside actions; the caller above both hands it in.
PageScraper = Callable[[Page, Scrape], Awaitable[DataSpace]]


class Observed(Protocol):
    """What element ids are looked up in: the session's latest observation and the tab it was
    taken of (perception's ``LatestObservation``, handed in by the caller like the scraper)."""

    @property
    def observation(self) -> Observation | None: ...

    @property
    def page(self) -> Page | None: ...


@dataclass
class ActionContext:
    session: BrowserSession
    timeout_ms: int  # for finding and acting on an element
    navigation_timeout_ms: int
    # Folders upload_file may take files from (the tenant's uploads) besides the session's downloads.
    file_roots: tuple[Path, ...] = ()
    # Runs the scrape action (lanterna.scrape with the configured extractor); None: not offered.
    scraper: PageScraper | None = None
    # The latest observation, for actions addressing an element by id; None: nothing observed.
    observed: Observed | None = None

    @property
    def page(self) -> Page:
        return self.session.page

    async def settle(self, page: Page | None = None) -> None:
        """Let a navigation an action started reach DOMContentLoaded (bounded; never raises)."""
        page = page or self.session.page
        with contextlib.suppress(PlaywrightError):
            await page.wait_for_load_state("domcontentloaded", timeout=self.navigation_timeout_ms)

    async def wait_for_new_tab(self, tabs_before: int, timeout_s: float) -> Page | None:
        """The tab opened since there were ``tabs_before`` tabs, if one opens within ``timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            pages = self.session.tabs
            if len(pages) > tabs_before:
                return pages[-1]
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(0.02)
