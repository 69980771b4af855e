"""Serving a WebSocket only while its API key stays valid.

``serve_until_revoked`` registers the socket with the runtime's connection registry and runs the
route's work; when the tenant's key is revoked (``runs.revocation``) the work is cancelled and the
socket closed with ``REVOKED_CLOSE_CODE`` and the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from lanterna.server.auth import runtime_of
from lanterna.server.errors import refuse_websocket

# 4000 + the HTTP status, as for refused handshakes: the key is no longer valid.
REVOKED_CLOSE_CODE = 4401


async def serve_until_revoked(
    websocket: WebSocket, tenant: str, kind: str, work: Coroutine[Any, Any, None]
) -> None:
    """Run ``work`` (which serves ``websocket``) until it ends or ``tenant``'s key is revoked."""
    with runtime_of(websocket).connections.track(tenant, kind) as connection:
        served = asyncio.create_task(work)
        ended = asyncio.create_task(connection.ended.wait())
        try:
            await asyncio.wait({served, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            if not served.done():
                served.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await served  # re-raises what the work raised, as if it had been awaited directly
        if connection.ended.is_set():
            await _close(websocket, connection.reason or "API key revoked")


async def _close(websocket: WebSocket, reason: str) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        state = websocket.application_state
        if state == WebSocketState.CONNECTING:  # revoked before the handshake was answered
            await refuse_websocket(websocket, 401, reason)
        elif state != WebSocketState.DISCONNECTED:
            await websocket.close(code=REVOKED_CLOSE_CODE, reason=reason)
