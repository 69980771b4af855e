"""HTTP and WebSocket access to a lanterna server on the caller's event loop.

Sends the ``Call``s of ``base.py`` with ``httpx.AsyncClient``; server errors become typed
exceptions there. The connection pool is made on first use, in the loop that uses it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import websockets
from pydantic import BaseModel
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from lanterna.sdk.base import (
    CONNECT_TIMEOUT_S,
    Call,
    ClientClosedError,
    ClientSettings,
    error_for,
    read_answer,
    read_bytes,
    validate_request,
)

M = TypeVar("M", bound=BaseModel)

__all__ = ["AsyncTransport", "error_for", "validate_request"]


class AsyncTransport:
    """One server, one API key, one ``httpx.AsyncClient``; refuses calls once closed."""

    def __init__(self, settings: ClientSettings, *, flavour: str = "AsyncClient") -> None:
        self.settings = settings
        self._flavour = flavour
        self._http: httpx.AsyncClient | None = None
        self._closed = False

    @property
    def server_url(self) -> str:
        return self.settings.server_url

    @property
    def api_key(self) -> str:
        return self.settings.api_key

    @property
    def closed(self) -> bool:
        return self._closed

    def _client(self) -> httpx.AsyncClient:
        if self._closed:
            raise ClientClosedError(self._flavour)
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.settings.server_url,
                timeout=httpx.Timeout(self.settings.timeout_s, connect=CONNECT_TIMEOUT_S),
                headers=self.settings.headers,
            )
        return self._http

    async def _send(self, call: Call[Any]) -> httpx.Response:
        http = self._client()
        try:
            return await http.request(
                call.method, call.path, json=call.json_body, params=call.params, content=call.content
            )
        except httpx.TimeoutException as e:
            raise self.settings.too_slow(call.name, e) from e
        except httpx.TransportError as e:
            raise self.settings.unreachable(e) from e

    async def send(self, call: Call[M]) -> M:
        """Send ``call``; its answer as ``call.model``, or the matching ``LanternaError``."""
        response = await self._send(call)
        return read_answer(call, response.status_code, response.content)

    async def fetch(self, call: Call[Any]) -> bytes:
        """Send ``call`` and return the raw body (a replay, a file)."""
        response = await self._send(call)
        return read_bytes(response.status_code, response.content)

    @asynccontextmanager
    async def websocket(self, path: str, params: dict[str, str]) -> AsyncIterator[ClientConnection]:
        """Open a WebSocket (authenticated by ``token=``), mapping a refused handshake to an error."""
        if self._closed:
            raise ClientClosedError(self._flavour)
        try:
            ws = await connect(
                self.settings.ws_url(path, params),
                open_timeout=30,
                ping_interval=5,
                ping_timeout=40,
                max_size=None,
            )
        except InvalidStatus as e:
            raise error_for(e.response.status_code, bytes(e.response.body or b"")) from e
        except (OSError, TimeoutError, websockets.exceptions.InvalidHandshake) as e:
            raise self.settings.unreachable(e) from e
        try:
            yield ws
        finally:
            await ws.close()

    async def aclose(self) -> None:
        """Close the connection pool; later calls raise ``ClientClosedError``. Idempotent."""
        self._closed = True
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()
