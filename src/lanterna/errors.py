"""Errors every layer may raise. Each carries a message that says what to change.

The server maps them to HTTP statuses; the SDK raises the matching class from a response.
"""

from __future__ import annotations

from pydantic import ValidationError


class LanternaError(Exception):
    """Base class. ``status`` is the HTTP status the server answers with."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(LanternaError):
    status = 422


class PayloadTooLargeError(LanternaError):
    """The request body is over the server's limit."""

    status = 413


class AuthenticationError(LanternaError):
    status = 401


class NotFoundError(LanternaError):
    status = 404


class ConflictError(LanternaError):
    """The object exists but is in the wrong state (closed session, agent already running)."""

    status = 409


class NotSupportedError(LanternaError):
    """A part of Notte's hosted API that lanterna does not offer (personas)."""

    status = 501


class CapacityError(LanternaError):
    """No browser can be started now (the global cap is reached). ``retry_after_s`` is sent as
    ``Retry-After``."""

    status = 503

    def __init__(self, message: str, *, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ChromiumNotFoundError(LanternaError):
    status = 503


class ServerUnavailableError(LanternaError):
    """The SDK could not reach the server."""

    status = 503


def validation_details(exc: ValidationError, limit: int = 3, whole: str = "") -> str:
    """Pydantic's complaints as one line, ``field: problem; …`` (``whole`` names a nameless field)."""
    parts = []
    for err in exc.errors(include_url=False)[:limit]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "function-after") or whole
        if err.get("type") == "extra_forbidden":  # a typo must not look like a server problem
            *parent, name = where.split(".")
            inside = f" in {'.'.join(parent)}" if parent else ""
            parts.append(f"unknown field '{name}'{inside}: remove it or check its spelling")
        else:
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "; ".join(parts)
