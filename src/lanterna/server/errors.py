"""Every error answer is ``{"status": N, "message": "..."}``: never a ``detail`` key, never a bare 500."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.websockets import WebSocket

from lanterna.errors import CapacityError, LanternaError
from lanterna.models.actions import ACTION_TYPES
from lanterna.wire import ErrorBody

_LOCATIONS = {"body": "body", "query": "query parameter", "path": "path parameter", "header": "header"}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        ErrorBody(status=status, message=message).model_dump(), status_code=status, headers=headers
    )


async def refuse_websocket(websocket: WebSocket, status: int, message: str) -> None:
    """Refuse a WebSocket handshake with the JSON error as an HTTP response when the server supports
    it, else accept-less close with code 4000+status and the message as reason (trimmed to fit)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(status, message))
    else:
        await websocket.close(code=4000 + status, reason=message.encode()[:123].decode(errors="ignore"))


def _field(loc: tuple[Any, ...] | list[Any]) -> tuple[str, str]:
    """Where the error is ("body", "query parameter", ...) and the dotted field name."""
    parts = list(loc)
    where = _LOCATIONS.get(str(parts[0]), str(parts[0])) if parts else "body"
    names = [str(p) for p in parts[1:]]
    return where, ".".join(names)


def describe_validation_error(error: dict[str, Any]) -> str:
    """One readable line per invalid field: what is wrong and what to change."""
    where, name = _field(error.get("loc", ()))
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    subject = f"{where} field '{name}'" if name else where
    if kind == "extra_forbidden":
        return f"unknown {where} field '{name}': remove it (see /docs for the accepted fields)"
    if kind == "missing":
        return f"{subject} is required"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        got = ctx.get("tag")
        head = f"unknown action type {got!r}" if got is not None else "the action has no 'type'"
        return f"{head}; use one of: {', '.join(ACTION_TYPES)}"
    if kind == "json_invalid":
        return f"the {where} is not valid JSON ({ctx.get('error', 'parse error')}); send a JSON object"
    if kind in ("model_attributes_type", "dict_type"):
        return f"the {where}{' field ' + repr(name) if name else ''} must be a JSON object"
    if kind == "string_too_long":
        return f"{subject} is too long: at most {ctx.get('max_length')} characters are accepted; shorten it"
    if kind == "too_long":
        return f"{subject} has too many items: at most {ctx.get('max_length')} are accepted; send fewer"
    if kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
        bound = {"less_than_equal": "at most", "greater_than_equal": "at least"}.get(kind)
        limit = ctx.get("le", ctx.get("ge", ctx.get("lt", ctx.get("gt"))))
        wanted = f"{bound} {limit}" if bound else f"{kind.replace('_', ' ')} {limit}"
        return f"{subject} must be {wanted}; got {error.get('input')}"
    message = str(error.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ")
    return f"{subject}: {message}"


def _strip_union_member(loc: tuple[Any, ...] | list[Any]) -> list[Any]:
    # Errors inside a tagged union carry the tag as a path element: body.click.selector -> body.selector.
    parts = list(loc)
    return [p for i, p in enumerate(parts) if not (i == 1 and parts[0] == "body" and p in ACTION_TYPES)]


def validation_message(errors: list[dict[str, Any]]) -> str:
    lines = []
    for error in errors:
        error = {**error, "loc": _strip_union_member(error.get("loc", ()))}
        line = describe_validation_error(error)
        if line not in lines:
            lines.append(line)
    return "invalid request: " + "; ".join(lines)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LanternaError)
    async def _lanterna_error(_request: Request, exc: LanternaError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, CapacityError):
            headers = {"Retry-After": str(exc.retry_after_s)}
        return error_response(exc.status, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message = validation_message(list(exc.errors()))
        content_type = request.headers.get("content-type", "")
        if request.method in ("POST", "PUT", "PATCH") and content_type and "json" not in content_type:
            message += (
                f" (the body was sent as {content_type!r}; send JSON with 'Content-Type: application/json')"
            )
        return error_response(422, message)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, LanternaError):  # FastAPI wraps errors of reading the body in a 400
            return await _lanterna_error(request, exc.__cause__)
        if exc.status_code == 400 and exc.__cause__ is not None:  # e.g. a body that is not UTF-8
            cause = f"{type(exc.__cause__).__name__}: {exc.__cause__}"[:200]
            return error_response(
                422, f"the body could not be read ({cause}); send a UTF-8 encoded JSON object"
            )
        if exc.status_code == 404 and exc.detail == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}; see /docs for the API"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs for the API"
        else:
            message = str(exc.detail)
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    # Starlette re-raises after sending this answer, so the server log still gets the traceback.
    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        return error_response(500, f"internal server error ({type(exc).__name__}: {exc}); see the server log")
