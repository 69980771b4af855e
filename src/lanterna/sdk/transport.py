"""HTTP and WebSocket access to a lanterna server, with server errors turned into typed exceptions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import websockets
from pydantic import BaseModel, ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from lanterna.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    LanternaError,
    NotFoundError,
    ServerUnavailableError,
)

M = TypeVar("M", bound=BaseModel)

SDK_VERSION = "0.1.0"
_BY_STATUS: dict[int, type[LanternaError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
}


def error_for(status: int, body: bytes | str) -> LanternaError:
    """The typed exception for a non-2xx response, carrying the server's message."""
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    message = text.strip() or f"HTTP {status}"
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        found = parsed.get("message", parsed.get("detail"))
        if found is not None:
            message = found if isinstance(found, str) else json.dumps(found)
    cls = _BY_STATUS.get(status) or (ServerUnavailableError if status >= 500 else LanternaError)
    error = cls(message)
    error.status = status
    return error


class Transport:
    """One server, one API key, one connection pool (created on the client's loop)."""

    def __init__(self, server_url: str, api_key: str, *, timeout_s: float = 60.0) -> None:
        self.server_url = server_url.rstrip("/")
        self.api_key = api_key
        self._timeout = httpx.Timeout(timeout_s, connect=10.0)
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.server_url,
                timeout=self._timeout,
                headers={
                    "Authorization": f"Bearer {self.api_key}",
                    "User-Agent": f"lanterna-sdk/{SDK_VERSION}",
                },
            )
        return self._http

    def _unreachable(self, cause: Exception) -> ServerUnavailableError:
        return ServerUnavailableError(
            f"cannot reach lanterna server at {self.server_url}; start it with `lanterna serve` "
            f"or set LANTERNA_API_URL ({type(cause).__name__}: {cause})"
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
    ) -> Any:
        """Send one request (a JSON body, or raw ``content``); return the parsed JSON body or raise
        the matching ``LanternaError``."""
        try:
            response = await self._client().request(
                method, path, json=json_body, params=params, content=content
            )
        except httpx.TimeoutException as e:
            raise ServerUnavailableError(
                f"lanterna server at {self.server_url} did not answer {method} {path} in time ({e!r})"
            ) from e
        except httpx.TransportError as e:
            raise self._unreachable(e) from e
        if response.status_code >= 300:
            raise error_for(response.status_code, response.content)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as e:
            raise LanternaError(f"{method} {path}: the server answered with non-JSON content") from e

    async def download(self, path: str) -> bytes:
        """GET ``path`` and return the raw body (a replay); an error answer raises as ``request`` does."""
        try:
            response = await self._client().get(path)
        except httpx.TimeoutException as e:
            raise ServerUnavailableError(
                f"lanterna server at {self.server_url} did not answer GET {path}"
            ) from e
        except httpx.TransportError as e:
            raise self._unreachable(e) from e
        if response.status_code >= 300:
            raise error_for(response.status_code, response.content)
        return response.content

    async def call(
        self,
        model: type[M],
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
    ) -> M:
        """Send one request and validate the answer as ``model``."""
        data = await self.request(method, path, json_body=json_body, params=params, content=content)
        try:
            return model.model_validate(data)
        except ValidationError as e:
            raise LanternaError(
                f"{method} {path}: unexpected response shape for {model.__name__} "
                f"(is the server a lanterna of the same version?): {e}"
            ) from e

    def ws_url(self, path: str, params: dict[str, str]) -> str:
        base = self.server_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return f"{base}{path}?{urlencode({'token': self.api_key, **params})}"

    @asynccontextmanager
    async def websocket(self, path: str, params: dict[str, str]) -> AsyncIterator[ClientConnection]:
        """Open a WebSocket (authenticated by ``token=``), mapping a refused handshake to an error."""
        try:
            ws = await connect(
                self.ws_url(path, params), open_timeout=30, ping_interval=5, ping_timeout=40, max_size=None
            )
        except InvalidStatus as e:
            raise error_for(e.response.status_code, bytes(e.response.body or b"")) from e
        except (OSError, TimeoutError, websockets.exceptions.InvalidHandshake) as e:
            raise self._unreachable(e) from e
        try:
            yield ws
        finally:
            await ws.close()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def describe_problems(error: ValidationError) -> str:
    """A validation error as one readable line: ``field: problem; ...``."""

    def line(err: Any) -> str:
        where = ".".join(str(p) for p in err["loc"]) or "value"
        if err["type"] == "extra_forbidden":  # a typo must not look like a server problem
            return f"{where}: unknown field '{err['loc'][-1]}'; remove it or check its spelling"
        return f"{where}: {err['msg']}"

    return "; ".join(line(err) for err in error.errors())


def validate_request(model: type[M], data: Any, what: str) -> M:
    """Validate a request body locally, so a mistake fails before any request with a clear message."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise InvalidRequestError(f"invalid {what}: {describe_problems(e)}") from e
