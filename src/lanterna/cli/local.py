"""A throwaway lanterna server inside the CLI's process, for ``lanterna demo`` and ``lanterna run``.

It keeps everything in a temporary directory (SQLite database, browser profiles), creates an API
key that lives as long as the process, and serves the real HTTP API on a free loopback port from a
background thread, so the CLI talks to it through the SDK exactly as it would to a remote server.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn

from lanterna.config import Settings
from lanterna.errors import LanternaError

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


async def _create_key(database_url: str) -> str:
    # Imported here: the store pulls in SQLAlchemy and Alembic, which `lanterna --help` does not need.
    from lanterna.store.db import Store

    store = await Store.open(database_url)
    try:
        _, plaintext = await store.keys.create("lanterna-cli (temporary)")
    finally:
        await store.close()
    return plaintext


class LocalServer:
    """Runs ``lanterna.server.app.create_app`` on ``127.0.0.1:<free port>`` with a temporary home.

    ``url`` and ``api_key`` are set once the context is entered. Browsers, database and key are
    gone when it exits.
    """

    def __init__(self, settings: Settings, *, pool_size: int = 1) -> None:
        self._base_settings = settings
        self._pool_size = pool_size
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.settings = settings
        self.url = ""
        self.api_key = ""

    def __enter__(self) -> LocalServer:
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _start(self) -> None:
        from lanterna.demo.site import STATIC_DIR as DEMO_SHOP_DIR
        from lanterna.server.app import create_app

        self._tmp = tempfile.TemporaryDirectory(prefix="lanterna-", ignore_cleanup_errors=True)
        home = Path(self._tmp.name)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.settings = self._base_settings.model_copy(
            update={
                "home": home,
                "database_url": f"sqlite+aiosqlite:///{home / 'lanterna.db'}",
                # One run needs one browser; warming more only competes with it for the CPU.
                "pool_size": min(self._base_settings.pool_size, self._pool_size),
                "host": "127.0.0.1",
                "port": port,  # the browsers' egress policy keeps pages off the server's own port
            }
        )
        self.api_key = asyncio.run(_create_key(self.settings.resolved_database_url))

        config = uvicorn.Config(
            create_app(self.settings, {"/demo": DEMO_SHOP_DIR}),
            log_level="warning",
            lifespan="on",
            access_log=False,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="lanterna-local-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive():
                raise LanternaError("the in-process lanterna server failed to start (see the log above)")
            if time.monotonic() > deadline:
                raise LanternaError(
                    f"the in-process lanterna server did not start within {START_TIMEOUT_S:.0f} s"
                )
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"

    def _stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=STOP_TIMEOUT_S)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
