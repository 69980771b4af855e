"""The CDP proxy: ``/sessions/{id}/cdp?token=…`` relays a client to that session's browser only.

Every client→browser message passes ``cdp_filter`` first; a refused one is answered with a
CDP error and never reaches the browser.

The token and tenant are checked before the WebSocket is accepted; an unknown session, or
another tenant's, is refused with an HTTP 404 (401 without a valid key, 409 when closed).
"""

from __future__ import annotations

import logging
import re

import websockets
from fastapi import APIRouter, WebSocket
from websockets.asyncio.client import ClientConnection

from lanterna.errors import LanternaError, NotFoundError
from lanterna.runs.sessions import CdpEndpoint
from lanterna.server.auth import authenticate, runtime_of
from lanterna.server.cdp_filter import CdpFilter, Forward, Reason
from lanterna.server.errors import refuse_websocket as refuse
from lanterna.server.revocation import serve_until_revoked
from lanterna.server.streams import serve_until_either_ends

log = logging.getLogger(__name__)

router = APIRouter(tags=["sessions"])

_TARGET_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CONNECT_TIMEOUT_S = 10.0


async def _pump_client_to_browser(websocket: WebSocket, upstream: ClientConnection, rules: CdpFilter) -> None:
    """Forward what ``rules`` passes; answer what it refuses with a CDP error for that id."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        verdict = rules.judge(text if text is not None else message.get("bytes") or b"")
        if isinstance(verdict, Forward):
            await upstream.send(verdict.text)
        else:
            # Clients that auto-attach touch the browser's own pages as a matter of course.
            level = logging.DEBUG if verdict.reason is Reason.BROWSER_PAGE else logging.WARNING
            log.log(level, "CDP relay refused %s (%s)", verdict.method or "a message", verdict.reason)
            await websocket.send_text(verdict.response)


async def _pump_browser_to_client(websocket: WebSocket, upstream: ClientConnection, rules: CdpFilter) -> None:
    async for message in upstream:
        if isinstance(message, str):
            rules.observe(message)  # before the client can learn of a session, the filter knows it
            await websocket.send_text(message)
        else:
            await websocket.send_bytes(message)


async def _relay(websocket: WebSocket, endpoint: CdpEndpoint, target_id: str | None) -> None:
    try:
        upstream = await websockets.connect(
            endpoint.url, max_size=None, ping_interval=None, open_timeout=_CONNECT_TIMEOUT_S
        )
    except websockets.InvalidStatus:
        if target_id is None:
            await refuse(websocket, 409, "the session's browser refused the connection; start a new session")
        else:  # Chromium answers 500 "No such target id" for a closed tab
            await refuse(websocket, 404, f"tab target {target_id} not found; see GET /sessions/{{id}}/debug")
        return
    except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
        await refuse(websocket, 409, f"cannot reach the session's browser ({exc}); start a new session")
        return
    rules = CdpFilter(
        endpoint.egress, endpoint.downloads_dir, endpoint.file_roots, target_url=endpoint.target_url
    )
    async with upstream:
        await websocket.accept()
        await serve_until_either_ends(
            websocket,
            _pump_client_to_browser(websocket, upstream, rules),
            _pump_browser_to_client(websocket, upstream, rules),
            close_reason="the session's browser closed",
            close_code=1001,
        )


async def _proxy(websocket: WebSocket, session_id: str, target_id: str | None) -> None:
    try:
        tenant = await authenticate(websocket)
        if target_id is not None and not _TARGET_ID.match(target_id):
            raise NotFoundError(f"tab target {target_id!r} not found in session {session_id}")
        endpoint = await runtime_of(websocket).sessions.cdp_endpoint(tenant, session_id, target_id)
    except LanternaError as exc:
        await refuse(websocket, exc.status, exc.message)
        return
    await serve_until_revoked(websocket, tenant, "cdp", _relay(websocket, endpoint, target_id))


@router.websocket("/sessions/{session_id}/cdp")
async def browser_cdp(websocket: WebSocket, session_id: str) -> None:
    """The browser-level CDP endpoint of a session (for ``connect_over_cdp``)."""
    await _proxy(websocket, session_id, None)


@router.websocket("/sessions/{session_id}/cdp/page/{target_id}")
async def page_cdp(websocket: WebSocket, session_id: str, target_id: str) -> None:
    """The CDP endpoint of one tab (see ``GET /sessions/{id}/debug``)."""
    await _proxy(websocket, session_id, target_id)
