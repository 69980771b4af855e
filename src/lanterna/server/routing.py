"""Cluster mode's front door: each call about one session goes to the browser host that owns it.

An API replica answers from the store what needs no browser (status and lists of sessions and
agents, keys, vaults, profiles, uploads) and forwards the rest — page operations, agent start
and stop, the logs and CDP WebSockets, recordings, downloads — as it came, to the owning host's
own copy of this API, which authenticates it again. A new session is placed first
(``RayPlacement.place``): Ray picks the node, and the start goes to that node's host.

When a host is lost mid-stream, a followed agent still gets its ending: the replica waits for
the store to record it (the cluster watch ends lost hosts' agents) and sends the stop message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import websockets
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from lanterna.errors import LanternaError
from lanterna.runs.placement import RayPlacement
from lanterna.server.auth import authenticate, runtime_of
from lanterna.server.errors import error_response, refuse_websocket
from lanterna.server.host import host_handle
from lanterna.server.streams import until_first_ends
from lanterna.wire import AgentStatusResponse, AgentStopMessage

log = logging.getLogger(__name__)

_SESSION_PATH = re.compile(r"^/sessions/(?P<id>[^/]+)(?P<rest>/.*)?$")
_AGENT_PATH = re.compile(r"^/agents/(?P<id>[^/]+)(?P<rest>/.*)?$")
_DOWNLOADS_PATH = re.compile(r"^/storage/(?P<id>[^/]+)/downloads(/.*)?$")
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
}  # "host" kept: URLs it answers name the replica
_UNREACHABLE = "the browser host of this session did not answer ({error}); retry in a few seconds"
_ENDING_WAIT_S = 15.0


@dataclass(frozen=True)
class _Route:
    """Where a request goes: a host URL, or a new placement (``place``) for a session start."""

    host_id: str | None = None
    place: bool = False


class HostForwarder:
    """The HTTP client replicas forward with, opened on first use; the app's lifespan closes it."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=5.0))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class ClusterRouter:
    """ASGI middleware of an API replica; a no-op when the runtime has no placement (embedded)."""

    def __init__(self, app: ASGIApp, forwarder: HostForwarder) -> None:
        self.app = app
        self._forwarder = forwarder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or "app" not in scope:
            await self.app(scope, receive, send)
            return
        placement = getattr(scope["app"].state, "runtime", None)
        placement = getattr(placement, "placement", None)
        if placement is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self._websocket(placement, scope, receive, send)
        else:
            await self._http_request(placement, scope, receive, send)

    # ----- HTTP --------------------------------------------------------------------------

    async def _http_request(
        self, placement: RayPlacement, scope: Scope, receive: Receive, send: Send
    ) -> None:
        body = await _read_body(receive)
        replay = _replaying(body)
        route = await _route(placement, scope, body)
        if route is None:
            await self.app(scope, replay, send)
            return
        try:
            if route.place:
                await self._start_session(placement, scope, body, send)
                return
            url = await placement.host_url(route.host_id or "")
            if url is None:  # lost or unknown host: the store has the session's ending
                await self.app(scope, replay, send)
                return
            await self._forward(url, scope, body, send)
        except LanternaError as exc:
            await _send_error(scope, send, exc.status, exc.message)
        except httpx.TransportError as exc:
            await _send_error(scope, send, 503, _UNREACHABLE.format(error=type(exc).__name__))

    async def _start_session(self, placement: RayPlacement, scope: Scope, body: bytes, send: Send) -> None:
        reserved = await placement.place()
        try:
            status, session_id = await self._forward(reserved.host.url, scope, body, send, capture_id=True)
        except BaseException:
            placement.release(reserved.group_name)
            raise
        if status != 200 or session_id is None:
            placement.release(reserved.group_name)
            return
        await host_handle(reserved.host.node_id).hold.remote(session_id, reserved.group_name)  # type: ignore[attr-defined]

    async def _forward(
        self, base_url: str, scope: Scope, body: bytes, send: Send, *, capture_id: bool = False
    ) -> tuple[int, str | None]:
        http = self._forwarder.client
        headers = [(k, v) for k, v in scope["headers"] if k.decode().lower() not in _HOP_BY_HOP]
        request = http.build_request(
            scope["method"],
            base_url + scope["path"],
            params=scope.get("query_string", b"").decode(),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
            content=body,
        )
        response = await http.send(request, stream=True)
        try:
            captured: bytes | None = await response.aread() if capture_id else None
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (k, v) for k, v in response.headers.raw if k.decode().lower() not in _HOP_BY_HOP
                    ],
                }
            )
            if captured is not None:
                await send({"type": "http.response.body", "body": captured})
                return response.status_code, _session_id(captured)
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return response.status_code, None
        finally:
            await response.aclose()

    # ----- WebSocket ---------------------------------------------------------------------

    async def _websocket(self, placement: RayPlacement, scope: Scope, receive: Receive, send: Send) -> None:
        route = await _route(placement, scope, b"")
        url = await placement.host_url(route.host_id) if route is not None and route.host_id else None
        if url is None:
            await self.app(scope, receive, send)
            return
        websocket = WebSocket(scope, receive, send)
        target = "ws" + url.removeprefix("http") + scope["path"]
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode()
        try:
            upstream = await websockets.connect(target, max_size=64 * 1024 * 1024, open_timeout=10)
        except InvalidStatus as exc:
            message = _message_of(bytes(exc.response.body or b""))
            await refuse_websocket(websocket, exc.response.status_code, message)
            return
        except (OSError, TimeoutError) as exc:
            await refuse_websocket(websocket, 503, _UNREACHABLE.format(error=type(exc).__name__))
            return
        await websocket.accept()
        forwarded = await _pump(websocket, upstream)
        lost_agent = forwarded.lost and _AGENT_PATH.match(scope["path"]) is not None
        if lost_agent and await _send_agent_ending(websocket, scope, forwarded.messages):
            forwarded.close = (1000, "")
        if websocket.client_state == WebSocketState.CONNECTED:
            code, reason = forwarded.close
            with contextlib.suppress(RuntimeError):
                await websocket.close(code=code, reason=reason)


@dataclass
class _Pumped:
    messages: int = 0  # browser/host → client messages forwarded
    lost: bool = False  # the host's side ended without a close frame
    close: tuple[int, str] = (1000, "")


async def _pump(websocket: WebSocket, upstream: ClientConnection) -> _Pumped:
    pumped = _Pumped()

    async def client_to_host() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("text") if message.get("text") is not None else message.get("bytes")
            if data is not None:
                await upstream.send(data)

    async def host_to_client() -> None:
        try:
            async for data in upstream:
                if isinstance(data, str):
                    await websocket.send_text(data)
                else:
                    await websocket.send_bytes(data)
                pumped.messages += 1
            received = upstream.protocol.close_rcvd
        except ConnectionClosed as closed:
            received = closed.rcvd
        if received is None:
            pumped.lost = True
            pumped.close = (1011, "the browser host was lost")
        else:
            pumped.close = (received.code, received.reason)

    try:
        await until_first_ends(client_to_host(), host_to_client())
    finally:
        await upstream.close()
    return pumped


async def _send_agent_ending(websocket: WebSocket, scope: Scope, already_sent: int) -> bool:
    """The steps the client has not had and the stop message, once the store records the end."""
    match = _AGENT_PATH.match(scope["path"])
    if match is None:
        return False
    runtime = runtime_of(websocket)
    try:
        tenant = await authenticate(websocket)
        deadline = time.monotonic() + _ENDING_WAIT_S
        status = await runtime.agents.status(tenant, match["id"])
        while status.state.status == "active" and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            status = await runtime.agents.status(tenant, match["id"])
    except LanternaError:
        return False
    if status.state.status == "active":
        return False
    for step in status.steps[already_sent:]:
        await websocket.send_text(step.model_dump_json())
    ending = AgentStopMessage(agent=AgentStatusResponse.of(status))
    await websocket.send_text(ending.model_dump_json())
    return True


# ----- deciding where a request goes ---------------------------------------------------------


async def _route(placement: RayPlacement, scope: Scope, body: bytes) -> _Route | None:
    path: str = scope["path"]
    method: str = scope.get("method", "GET")
    hosts = placement.store.hosts
    if path == "/sessions/start" and method == "POST":
        return _Route(place=True)
    if path == "/agents/start" and method == "POST":
        session_id = _field(body, "session_id")
        host = await hosts.host_of(session_id) if session_id else None
        return _Route(host_id=host) if host else None
    for pattern, lookup in (
        (_DOWNLOADS_PATH, hosts.host_of),
        (_SESSION_PATH, hosts.host_of),
        (_AGENT_PATH, hosts.host_of_agent),
    ):
        match = pattern.match(path)
        if match is None:
            continue
        if match.groupdict().get("rest") is None and method == "GET" and pattern is not _DOWNLOADS_PATH:
            return None  # status comes from the store, on any replica
        host = await lookup(match["id"])
        return _Route(host_id=host) if host else None
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # like a client that keeps the connection open
        return {"type": "http.disconnect"}

    return receive


def _field(body: bytes, name: str) -> str | None:
    try:
        value = json.loads(body).get(name)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _session_id(body: bytes) -> str | None:
    return _field(body, "session_id")


def _message_of(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message"))
    except (ValueError, AttributeError):
        return body.decode(errors="replace")[:200] or "refused by the browser host"


async def _send_error(scope: Scope, send: Send, status: int, message: str) -> None:
    response = error_response(status, message, {"Retry-After": "2"} if status == 503 else None)
    await response(scope, _never_receive, send)


async def _never_receive() -> Message:
    return {"type": "http.disconnect"}
