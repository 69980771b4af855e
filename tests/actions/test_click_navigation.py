"""A click whose navigation outlasts the action timeout went through: it succeeds, never blames visibility."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from lanterna.actions.execute import execute
from lanterna.browser import BrowserSession
from lanterna.config import Settings

ACTION_TIMEOUT_MS = 1500
SLOW_MS = 3000  # the target page answers after this: longer than the action timeout


class SlowSite:
    """Loopback pages: ``/`` links to ``/slow?ms=N`` (answers after N ms) and to ``/held`` (answers
    once ``release`` is set, or after 30 s)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path == "/slow":
                    time.sleep(int(parse_qs(url.query)["ms"][0]) / 1000)
                    body = "<title>Slow page</title><p>finally here</p>"
                elif url.path == "/held":
                    site.release.wait(30)
                    body = "<title>Held page</title><p>released</p>"
                else:
                    body = (
                        f"<title>Start</title><a id='slow' href='/slow?ms={SLOW_MS}'>Slow page</a> "
                        "<a id='held' href='/held'>Held page</a>"
                    )
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        threading.Thread(target=self._server.serve_forever, name="slow-site", daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def slow_site() -> Iterator[SlowSite]:
    site = SlowSite()
    try:
        yield site
    finally:
        site.close()


async def _open_start(tab: BrowserSession, site: SlowSite, settings: Settings) -> None:
    result = await execute(tab, {"type": "goto", "url": site.url}, settings=settings)
    assert result.success, result.message


async def test_a_click_on_a_link_to_a_slow_page_succeeds_once_the_page_loads(
    tab: BrowserSession, slow_site: SlowSite
) -> None:
    settings = Settings(action_timeout_ms=ACTION_TIMEOUT_MS, navigation_timeout_ms=15_000)
    await _open_start(tab, slow_site, settings)

    result = await execute(tab, {"type": "click", "selector": "#slow"}, settings=settings)

    assert result.success, result.message
    assert "not visible" not in result.message
    assert result.message == f"clicked selector '#slow'; the page is now {slow_site.url}slow?ms={SLOW_MS}"
    assert await tab.page.title() == "Slow page"


async def test_a_click_whose_page_outlasts_the_navigation_timeout_says_it_is_still_loading(
    tab: BrowserSession, slow_site: SlowSite
) -> None:
    settings = Settings(action_timeout_ms=ACTION_TIMEOUT_MS, navigation_timeout_ms=2000)
    await _open_start(tab, slow_site, settings)
    slow_site.release.clear()
    try:
        result = await execute(tab, {"type": "click", "selector": "#held"}, settings=settings)
    finally:
        slow_site.release.set()

    assert result.success, result.message
    assert "not visible" not in result.message
    assert result.message == (
        f"clicked selector '#held'; it opened {slow_site.url}held, which is still loading after 2000 ms "
        "— observe again later, or go back"
    )
