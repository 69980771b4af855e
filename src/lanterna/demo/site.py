"""The bundled demo shop, "Lantern Goods", served over HTTP on the loopback interface.

It needs nothing but the standard library, so the demo, the examples and the tests can run
an agent against a realistic multi-page site on a machine with no network::

    with DemoSite() as site:
        print(site.url)                 # http://127.0.0.1:<free port>
        print(site.page("contact.html"))
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

STATIC_DIR = Path(__file__).with_name("static")

CONTACT_EMAIL = "hello@lanterna-shop.test"
CONTACT_PHONE = "+1 (555) 014-2398"
DEMO_LOGIN_EMAIL = "demo@lanterna-shop.test"
DEMO_LOGIN_PASSWORD = "lantern123"

# slug -> product name, as shown on the product pages (src/lanterna/demo/static/products/<slug>.html).
PRODUCTS = {
    "classic-lantern": "Classic Brass Lantern",
    "trail-headlamp": "Trail Headlamp 300",
    "beeswax-candles": "Beeswax Candle Set",
    "solar-string-lights": "Solar String Lights",
}


# Explicit charsets: the pages and the script contain non-ASCII text (×, “ ”, —).
_CONTENT_TYPES = {
    **SimpleHTTPRequestHandler.extensions_map,
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


class _ShopRequestHandler(SimpleHTTPRequestHandler):
    """Serves the static files; no directory listings, a friendly 404 page, no access log."""

    extensions_map = _CONTENT_TYPES

    def list_directory(self, path: str | os.PathLike[str]) -> io.BytesIO | None:
        self._send_not_found()
        return None

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code == HTTPStatus.NOT_FOUND:
            self._send_not_found()
        else:
            super().send_error(code, message, explain)

    def _send_not_found(self) -> None:
        body = (STATIC_DIR / "404.html").read_bytes()
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        # Pages change between versions of the package; never let a browser serve a stale copy.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser closing a connection mid-response is normal; don't print tracebacks for it.
        pass


class DemoSite:
    """Serves the demo shop on ``host:port`` (a free port by default) from a daemon thread.

    Use it as a context manager (``with`` or ``async with``), or call :meth:`start` and
    :meth:`stop`. :attr:`url` is the base URL without a trailing slash.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._requested_port = port
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234``. Only valid while the site runs."""
        if self._server is None:
            raise RuntimeError("the demo site is not running; call start() or use it as a context manager")
        return f"http://{self.host}:{self.port}"

    def page(self, path: str) -> str:
        """Absolute URL of a page of the shop, e.g. ``page("contact.html")``."""
        return f"{self.url}/{path.lstrip('/')}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> DemoSite:
        """Bind the port and start serving. Calling it on a running site does nothing."""
        if self._server is not None:
            return self
        handler = partial(_ShopRequestHandler, directory=str(STATIC_DIR))
        server = _QuietServer((self.host, self._requested_port), handler)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="lanterna-demo-site", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port. Safe to call more than once."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> DemoSite:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # shutdown() waits for the serving loop to notice; don't block the event loop meanwhile.
        await asyncio.to_thread(self.stop)

    def __repr__(self) -> str:
        state = self.url if self._server is not None else "stopped"
        return f"DemoSite({state})"
