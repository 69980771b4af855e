"""Limits on the request itself, before any route sees it: body size, URL length, header size, NUL.

Field-level limits (string lengths, list lengths, numbers) live on the models; these are the ones
no model can check, because they concern the raw request.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from lanterna.errors import PayloadTooLargeError
from lanterna.server.errors import error_response, refuse_websocket

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_TARGET_BYTES = 16 * 1024  # path and query string
MAX_AUTHORIZATION_BYTES = 4096
# Routes that stream their body to disk and enforce their own, larger caps.
OWN_BODY_LIMIT_PREFIXES = ("/storage/uploads/",)

_TOO_LARGE = (
    f"the request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB, the most this server "
    "accepts; send less (e.g. fewer cookies or a shorter script)"
)


def _problem(scope: Scope) -> tuple[int, str] | None:
    """Why the request is refused before routing (status, message), or ``None``."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    if len(raw_path) + len(query) > MAX_TARGET_BYTES:
        return 414, (
            f"the URL is {len(raw_path) + len(query)} bytes long; at most {MAX_TARGET_BYTES} are accepted"
            " — send long values in a JSON body"
        )
    if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(query):
        return 422, "the URL contains a NUL character (%00), which is not accepted; remove it"
    bounded_body = not scope["path"].startswith(OWN_BODY_LIMIT_PREFIXES)
    for name, value in scope.get("headers", []):
        if name == b"content-length" and bounded_body and value.isdigit() and int(value) > MAX_BODY_BYTES:
            return 413, _TOO_LARGE
        if name == b"authorization" and len(value) > MAX_AUTHORIZATION_BYTES:
            return 422, (
                f"header 'Authorization' is {len(value)} bytes long; at most {MAX_AUTHORIZATION_BYTES} "
                "are accepted — send 'Bearer <api key>'"
            )
    return None


class RequestLimits:
    """ASGI middleware refusing oversized or malformed requests with the usual JSON error body
    (a WebSocket handshake gets the same as an HTTP denial response). Install it inside
    ``CollapseSlashes``, so that it sees the path routes see."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = _problem(scope)
        if problem is not None:
            status, message = problem
            if scope["type"] == "http":
                await error_response(status, message)(scope, receive, send)
            else:
                await refuse_websocket(WebSocket(scope, receive, send), status, message)
            return
        if scope["type"] == "http" and not scope["path"].startswith(OWN_BODY_LIMIT_PREFIXES):
            receive = _bounded(receive)
        await self.app(scope, receive, send)


def _bounded(receive: Receive) -> Receive:
    """``receive`` that raises ``PayloadTooLargeError`` once the body passes the limit (chunked bodies
    have no Content-Length to check up front)."""
    seen = 0

    async def bounded_receive() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                raise PayloadTooLargeError(_TOO_LARGE)
        return message

    return bounded_receive
