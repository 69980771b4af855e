"""What both clients share and none of it does I/O: settings, request descriptions, answer parsing.

``Call`` describes one request and the model its answer is read as; ``read_answer`` turns a
status and body into that model or into the typed ``LanternaError`` of the server's message.
The async transport (``transport.py``) sends calls; ``Api`` (``api.py``) names them per endpoint.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError

from lanterna.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    LanternaError,
    NotFoundError,
    ServerUnavailableError,
    validation_details,
)

M = TypeVar("M", bound=BaseModel)

SDK_VERSION = "0.1.0"
DEFAULT_SERVER_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 10.0

_BY_STATUS: dict[int, type[LanternaError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
}


class ClientClosedError(RuntimeError):
    """A call on a client after ``close()``/``aclose()``: make a new client."""

    def __init__(self, flavour: str = "Client") -> None:
        super().__init__(f"this lanterna client is closed; create a new {flavour}")


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


@dataclass(frozen=True)
class ClientSettings:
    """Where the server is and how to authenticate, from arguments or the environment."""

    server_url: str
    api_key: str
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def resolve(cls, api_key: str | None, server_url: str | None, timeout_s: float) -> ClientSettings:
        """``api_key``/``server_url`` if given, else ``LANTERNA_API_KEY``/``LANTERNA_API_URL``
        (``NOTTE_API_KEY``/``NOTTE_API_URL`` also work); the server defaults to this machine."""
        key = api_key or _env("LANTERNA_API_KEY", "NOTTE_API_KEY")
        if not key:
            raise AuthenticationError(
                "no API key: pass Client(api_key=...) or set LANTERNA_API_KEY (NOTTE_API_KEY also works); "
                "create a key with `lanterna keys create`"
            )
        url = server_url or _env("LANTERNA_API_URL", "NOTTE_API_URL") or DEFAULT_SERVER_URL
        return cls(server_url=url.rstrip("/"), api_key=key, timeout_s=timeout_s)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "User-Agent": f"lanterna-sdk/{SDK_VERSION}"}

    def ws_url(self, path: str, params: dict[str, str]) -> str:
        """The WebSocket URL of ``path`` (WebSockets authenticate by ``token=``)."""
        base = self.server_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return f"{base}{path}?{urlencode({'token': self.api_key, **params})}"

    def unreachable(self, cause: Exception) -> ServerUnavailableError:
        return ServerUnavailableError(
            f"cannot reach lanterna server at {self.server_url}; start it with `lanterna serve` "
            f"or set LANTERNA_API_URL ({type(cause).__name__}: {cause})"
        )

    def too_slow(self, what: str, cause: Exception) -> ServerUnavailableError:
        return ServerUnavailableError(
            f"lanterna server at {self.server_url} did not answer {what} in time ({cause!r})"
        )


@dataclass(frozen=True)
class Call(Generic[M]):
    """One request and how to read its answer: as ``model``, or as raw bytes when ``model`` is None."""

    method: str
    path: str
    model: type[M] | None = None
    params: dict[str, Any] | None = None
    json_body: Any = None
    content: bytes | None = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


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


def read_json(call: Call[Any], status: int, body: bytes) -> Any:
    """The parsed JSON of an answer (None when empty), or the typed error of a non-2xx one."""
    if status >= 300:
        raise error_for(status, body)
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError as e:
        raise LanternaError(f"{call.name}: the server answered with non-JSON content") from e


def read_model(model: type[M], call: Call[Any], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise LanternaError(
            f"{call.name}: unexpected response shape for {model.__name__} "
            f"(is the server a lanterna of the same version?): {e}"
        ) from e


def read_answer(call: Call[M], status: int, body: bytes) -> M:
    """The answer to ``call`` as its model (a typed error for a non-2xx status)."""
    assert call.model is not None, "a Call without a model is read with read_bytes"
    return read_model(call.model, call, read_json(call, status, body))


def read_bytes(status: int, body: bytes) -> bytes:
    """A raw answer (a replay, a file); an error answer raises as ``read_answer`` does."""
    if status >= 300:
        raise error_for(status, body)
    return body


def validate_request(model: type[M], data: Any, what: str) -> M:
    """Validate a request body locally, so a mistake fails before any request with a clear message."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise InvalidRequestError(f"invalid {what}: {validation_details(e, limit=10)}") from e
