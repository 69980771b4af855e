"""The FastAPI application and ``serve()``, which runs it with uvicorn."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import uvicorn
from fastapi import FastAPI, WebSocket
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from lanterna.config import Settings, get_settings
from lanterna.runs.placement import RayPlacement
from lanterna.runs.runtime import Runtime
from lanterna.server import cdp, dashboard
from lanterna.server.errors import install_error_handlers, refuse_websocket
from lanterna.server.host import ensure_host
from lanterna.server.limits import RequestLimits
from lanterna.server.routes import agents, personas, profiles, recording, sessions, storage, vaults
from lanterna.server.routing import ClusterRouter, HostForwarder

log = logging.getLogger(__name__)

_SLASHES = re.compile(r"/{2,}")
WEBSOCKET_ENDPOINTS = (
    "the WebSocket endpoints are /sessions/{session_id}/cdp, /sessions/{session_id}/cdp/page/{target_id}, "
    "/sessions/{session_id}/recording and /agents/{agent_id}/debug/logs, each with ?token=<api key>"
)
# Open WebSockets (CDP, agent logs) get this long to finish before shutdown closes every session.
GRACEFUL_SHUTDOWN_S = 3


class CollapseSlashes:
    """Route ``//health`` like ``/health``: clients that join a base URL ending in '/' send both."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and "//" in scope["path"]:
            path = _SLASHES.sub("/", scope["path"])
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


def _version() -> str:
    try:
        return version("lanterna")
    except PackageNotFoundError:
        return "0.0.0"


def create_app(settings: Settings | None = None, static_sites: Mapping[str, Path] | None = None) -> FastAPI:
    """The lanterna API. Its lifespan builds the runtime and, at shutdown, closes every session.

    ``static_sites`` maps a path prefix to a folder served as-is (the CLI mounts the demo shop
    at ``/demo``, so examples and first tasks have a page to work on with no internet).
    """
    settings = settings or get_settings()
    forwarder = HostForwarder()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.start(settings)
        app.state.runtime = runtime
        try:
            if settings.ray_address is not None:
                hosts = partial(ensure_host, settings, create_app)
                runtime.placement = RayPlacement(settings, runtime.store, hosts)
                await runtime.placement.start()
            yield
        finally:
            await forwarder.aclose()
            await runtime.close()

    app = FastAPI(
        title="lanterna",
        version=_version(),
        summary="Self-hosted browser sessions and web agents, wire-compatible with notte-sdk.",
        description=(
            "Authenticate with `Authorization: Bearer <api key>` (WebSocket URLs take `?token=<api key>`). "
            'Errors are `{"status": N, "message": "..."}`.'
        ),
        lifespan=lifespan,
    )
    install_error_handlers(app)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness check; needs no API key."""
        return {"status": "ok"}

    app.include_router(dashboard.router)  # before sessions: /sessions/viewer/index.html
    app.include_router(recording.router)  # before sessions: /sessions/{id}/replay is served here
    app.include_router(sessions.router)
    app.include_router(agents.router)
    app.include_router(storage.router)
    app.include_router(vaults.router)
    app.include_router(personas.router)
    app.include_router(profiles.router)
    app.include_router(cdp.router)

    # After every WebSocket route: any other path gets a reason instead of Starlette's bare 403.
    @app.websocket("/{path:path}")
    async def unknown_websocket(websocket: WebSocket, path: str) -> None:
        await refuse_websocket(websocket, 404, f"no WebSocket endpoint at /{path}; {WEBSOCKET_ENDPOINTS}")

    for prefix, folder in (static_sites or {}).items():
        app.mount(prefix, StaticFiles(directory=folder, html=True), name=prefix.strip("/"))
    # Inside the limits: a body is checked here before it is forwarded to a browser host.
    app.add_middleware(ClusterRouter, forwarder=forwarder)
    app.add_middleware(RequestLimits)
    app.add_middleware(CollapseSlashes)  # added last: runs first
    return app


def serve(
    settings: Settings | None = None,
    host: str | None = None,
    port: int | None = None,
    static_sites: Mapping[str, Path] | None = None,
) -> None:
    """Run the API with uvicorn until SIGINT/SIGTERM, then close every session and browser."""
    settings = settings or get_settings()
    # The bound port is the one pages must not reach (the egress policy protects it).
    settings = settings.model_copy(
        update={"host": host or settings.host, "port": settings.port if port is None else port}
    )
    config = uvicorn.Config(
        create_app(settings, static_sites),
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        ws_max_size=64 * 1024 * 1024,  # CDP screenshots are large
        log_level="info",
    )
    uvicorn.Server(config).run()
