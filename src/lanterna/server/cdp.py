"""The CDP proxy: ``/sessions/{id}/cdp?token=…`` relays a client to that session's browser only.

Every client→browser message passes ``cdp_filter`` first; a refused one is answered with a
CDP error and never reaches the browser.

The token and tenant are checked before the WebSocket is accepted; an unknown session, or
another tenant's, is refused with an HTTP 404 (401 without a valid key, 409 when closed).

In context isolation (a browser process shared by sessions) a ``ContextScope`` also judges
every message in both directions, so the client sees and touches only its session's browser
context; see ``_ScopedLink``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

import websockets
from fastapi import APIRouter, WebSocket
from websockets.asyncio.client import ClientConnection

from lanterna.errors import LanternaError, NotFoundError
from lanterna.runs.sessions import CdpEndpoint
from lanterna.server.auth import authenticate, runtime_of
from lanterna.server.cdp_filter import CdpFilter, Forward, Reason, Refused
from lanterna.server.cdp_scope import ContextScope, LookUp
from lanterna.server.errors import refuse_websocket as refuse
from lanterna.server.revocation import serve_until_revoked
from lanterna.server.streams import serve_until_either_ends

log = logging.getLogger(__name__)

router = APIRouter(tags=["sessions"])

_TARGET_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CONNECT_TIMEOUT_S = 10.0
_LOOKUP_TIMEOUT_S = 5.0
# What may wait for a client that does not read, before the relay hangs up on it: reading the
# browser must not stop, or targets of other sessions auto-attached here would stay paused.
_OUTBOX_LIMIT_BYTES = 64 * 2**20
_SLOW_CLIENT_CLOSE_CODE = 1008


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
        elif isinstance(verdict, Refused):
            _log_refusal(verdict)
            await websocket.send_text(verdict.response)


def _log_refusal(verdict: Refused) -> None:
    # Clients that auto-attach touch the browser's own pages as a matter of course.
    level = logging.DEBUG if verdict.reason is Reason.BROWSER_PAGE else logging.WARNING
    log.log(level, "CDP relay refused %s (%s)", verdict.method or "a message", verdict.reason)


async def _pump_browser_to_client(websocket: WebSocket, upstream: ClientConnection, rules: CdpFilter) -> None:
    async for message in upstream:
        if isinstance(message, str):
            rules.observe(message)  # before the client can learn of a session, the filter knows it
            await websocket.send_text(message)
        else:
            await websocket.send_bytes(message)


class _ScopedLink:
    """One relay connection kept inside a browser context: the sockets around a ``ContextScope``.

    The browser is read without pause — what the scope asks for (letting go of another
    session's target) is sent at once — and what goes to the client waits in an outbox, so a
    client that stops reading cannot hold up other sessions; past ``_OUTBOX_LIMIT_BYTES`` it is
    disconnected. Commands naming a target the scope does not know wait for the relay's own
    ``Target.getTargetInfo``; the client's commands keep their order.
    """

    def __init__(
        self, websocket: WebSocket, upstream: ClientConnection, rules: CdpFilter, scope: ContextScope
    ) -> None:
        self.websocket = websocket
        self.upstream = upstream
        self.rules = rules
        self.scope = scope
        self._answers: dict[int, asyncio.Future[dict[str, Any] | None]] = {}
        self._outbox: asyncio.Queue[str | bytes] = asyncio.Queue()
        self._queued_bytes = 0

    async def client_to_browser(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            frame: str | bytes = text if text is not None else message.get("bytes") or b""
            verdict = self.rules.judge(frame)
            if isinstance(verdict, LookUp):  # once learned, the target is known: judged for good
                result = await self._ask("Target.getTargetInfo", {"targetId": verdict.target_id})
                info = result.get("targetInfo") if result is not None else None
                self.scope.learn(verdict.target_id, info if isinstance(info, dict) else None)
                verdict = self.rules.judge(frame)
            if isinstance(verdict, Forward):
                await self.upstream.send(verdict.text)
            elif isinstance(verdict, Refused):
                _log_refusal(verdict)
                self._send_to_client(verdict.response)
            else:  # cannot happen: a learned target is known
                self._send_to_client(Refused(Reason.CONTEXT, None, "the target could not be judged").response)

    async def browser_to_client(self) -> None:
        writer = asyncio.create_task(self._drain_outbox())
        reader = asyncio.create_task(self._read_browser())
        try:
            await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (writer, reader):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _read_browser(self) -> None:
        async for message in self.upstream:
            if not isinstance(message, str):
                self._send_to_client(message)
                continue
            inbound = self.scope.inbound(message)
            for command in inbound.to_browser:
                await self.upstream.send(command)
            if inbound.answer is not None:
                call_id, result = inbound.answer
                waiting = self._answers.pop(call_id, None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(result)
            if inbound.to_client is not None:
                self.rules.observe(inbound.to_client)  # before the client can learn of a session
                self._send_to_client(inbound.to_client)
            if self._queued_bytes > _OUTBOX_LIMIT_BYTES:
                log.warning("CDP relay closed a client that stopped reading its messages")
                with contextlib.suppress(Exception):
                    await self.websocket.close(
                        code=_SLOW_CLIENT_CLOSE_CODE,
                        reason="the client did not read the browser's messages; read them as they come",
                    )
                return

    async def _drain_outbox(self) -> None:
        while True:
            message = await self._outbox.get()
            self._queued_bytes -= len(message)
            if isinstance(message, str):
                await self.websocket.send_text(message)
            else:
                await self.websocket.send_bytes(message)

    def _send_to_client(self, message: str | bytes) -> None:
        self._queued_bytes += len(message)
        self._outbox.put_nowait(message)

    async def _ask(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The relay's own command on the browser connection; its result, None on error or timeout."""
        call_id, text = self.scope.ask(method, params)
        answer: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._answers[call_id] = answer
        try:
            await self.upstream.send(text)
            return await asyncio.wait_for(answer, _LOOKUP_TIMEOUT_S)
        except TimeoutError:
            self.scope.forget(call_id)
            return None
        finally:
            self._answers.pop(call_id, None)


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
    scope = None
    if endpoint.browser_context_id is not None:
        scope = ContextScope(endpoint.browser_context_id, page_target=target_id)
    rules = CdpFilter(
        endpoint.egress,
        endpoint.downloads_dir,
        endpoint.file_roots,
        target_url=endpoint.target_url,
        scope=scope,
    )
    async with upstream:
        await websocket.accept()
        if scope is None:  # a browser process of the session's own
            pumps = (
                _pump_client_to_browser(websocket, upstream, rules),
                _pump_browser_to_client(websocket, upstream, rules),
            )
        else:
            link = _ScopedLink(websocket, upstream, rules, scope)
            pumps = (link.client_to_browser(), link.browser_to_client())
        await serve_until_either_ends(
            websocket, *pumps, close_reason="the session's browser closed", close_code=1001
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
