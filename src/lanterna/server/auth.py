"""Who is calling: the API key (``Authorization: Bearer`` or ``?token=``) names the tenant."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from starlette.requests import HTTPConnection

from lanterna.errors import AuthenticationError
from lanterna.runs.runtime import Runtime

# The dashboard keeps the API key in this HttpOnly cookie; its scripts mark writes with the header.
DASHBOARD_COOKIE = "lanterna_key"
DASHBOARD_HEADER = "x-lanterna-dashboard"

HOW_TO_AUTHENTICATE = (
    "send 'Authorization: Bearer <api key>' (or '?token=<api key>' on WebSocket URLs); "
    "create a key with `lanterna keys create`"
)


def runtime_of(connection: HTTPConnection) -> Runtime:
    runtime: Runtime = connection.app.state.runtime
    return runtime


def presented_key(connection: HTTPConnection, *, cookie: bool = True) -> str | None:
    """The key from the Authorization header, else from the ``token`` query parameter, else
    (with ``cookie``) from the dashboard's sign-in cookie."""
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = connection.query_params.get("token")
    if token:
        return token
    return dashboard_key(connection) if cookie else None


def dashboard_key(connection: HTTPConnection) -> str | None:
    """The dashboard cookie's key, only on requests our own pages can make: a cookie rides along
    on any request to this host, so a WebSocket must come from this origin and a write must carry
    the header our scripts add (a cross-site form cannot)."""
    key = connection.cookies.get(DASHBOARD_COOKIE)
    if not key:
        return None
    if connection.scope["type"] == "websocket":
        origin = connection.headers.get("origin", "")
        if origin.split("://", 1)[-1] != connection.headers.get("host", ""):
            return None
    elif connection.scope.get("method", "GET") not in ("GET", "HEAD") and (
        connection.headers.get(DASHBOARD_HEADER) != "1"
    ):
        return None
    return key


async def authenticate(connection: HTTPConnection) -> str:
    """The tenant (API key id) of the caller; ``AuthenticationError`` (401) without a valid key."""
    key = presented_key(connection)
    if key is None:
        raise AuthenticationError(f"missing API key: {HOW_TO_AUTHENTICATE}")
    runtime = runtime_of(connection)
    # A valid key is remembered for one revocation poll interval: a revoked key stops working
    # as soon as the poll learns of it, and an open WebSocket of it is closed then too.
    tenant = await runtime.store.keys.authenticate(key, max_age_s=runtime.settings.revocation_poll_s)
    if tenant is None:
        raise AuthenticationError(f"invalid or revoked API key: {HOW_TO_AUTHENTICATE}")
    return tenant


# Declared for the OpenAPI page's "Authorize" button; the key is read by ``authenticate``.
_bearer = HTTPBearer(auto_error=False, description="An API key from `lanterna keys create`.")


async def _tenant(request: Request, _credentials: Annotated[object, Depends(_bearer)] = None) -> str:
    return await authenticate(request)


async def _runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hop on every request.
    return runtime_of(request)


Tenant = Annotated[str, Depends(_tenant)]
CurrentRuntime = Annotated[Runtime, Depends(_runtime)]
