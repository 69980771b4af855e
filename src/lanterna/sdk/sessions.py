"""``Session``: one remote browser session, usable from sync and async code."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pydantic import BaseModel, ValidationError

from lanterna.errors import ConflictError, InvalidRequestError
from lanterna.models.actions import Action, ExecutionResult, parse_action
from lanterna.models.observation import Observation
from lanterna.models.scrape import DataSpace, StructuredData
from lanterna.sdk.results import ActionFailedError, ScrapeFailedError
from lanterna.sdk.transport import describe_problems, validate_request
from lanterna.wire import (
    DebugResponse,
    ObserveRequest,
    OffsetResponse,
    ScrapeRequest,
    SessionResponse,
    SessionStartRequest,
)

if TYPE_CHECKING:
    from lanterna.sdk.client import Client
    from lanterna.sdk.fallback import AgentFallback


def build_action(action: Action | dict[str, Any] | None, fields: dict[str, Any]) -> Action:
    """An action from a model, a dict, or keyword fields (``type="click", selector="#x"``)."""
    if action is None:
        data = dict(fields)
    elif isinstance(action, BaseModel):
        data = {**action.model_dump(mode="json"), **fields}
    elif isinstance(action, dict):
        data = {**action, **fields}
    else:
        kind = type(action).__name__
        raise InvalidRequestError(f"an action is a model, a dict or keyword fields, not {kind}")
    if "type" not in data:
        raise InvalidRequestError('an action needs a type, e.g. execute(type="click", selector="#submit")')
    try:
        return parse_action(data)
    except ValidationError as e:
        raise InvalidRequestError(f"invalid {data['type']!r} action: {describe_problems(e)}") from e


def schema_of(response_format: type[BaseModel] | dict[str, Any] | None) -> dict[str, Any] | None:
    """A JSON schema from a pydantic model class, a schema dict, or None."""
    if response_format is None or isinstance(response_format, dict):
        return response_format
    if isinstance(response_format, type) and issubclass(response_format, BaseModel):
        return response_format.model_json_schema()
    raise InvalidRequestError("response_format must be a pydantic model class or a JSON schema dict")


class Session:
    """A browser session on a lanterna server.

    ``client.Session(**options)`` describes a new session (options are those of
    ``SessionStartRequest``: ``idle_timeout_minutes``, ``max_duration_minutes``, ``viewport_width``
    and ``viewport_height``, ``user_agent``, ``chrome_args``, ...); ``client.Session(session_id)``
    attaches to an existing one. Used as a context manager (``with`` or ``async with``) it starts
    on entry and stops on exit, also when the block raises.

    Every method has a blocking form and an ``a``-prefixed async form (``observe``/``aobserve``).

    ``execute`` raises ``ActionFailedError`` when an action fails (``success=False``), unless
    ``raise_on_failure=False`` is given to the call, the session or the client. Inside
    ``client.AgentFallback(session, ...)`` it never raises for a failed action.

    Leaving the ``with`` block while an ``agent.arun()`` created in it has not been awaited yet
    postpones the stop until that run ends, so agents gathered after the block still run.
    """

    def __init__(
        self,
        client: Client,
        session_id: str | None = None,
        *,
        raise_on_failure: bool | None = None,
        **options: Any,
    ) -> None:
        if session_id is not None and options:
            raise InvalidRequestError(
                "give either a session id (to attach) or start options (to start a new session), not both"
            )
        self._client = client
        self._request = validate_request(SessionStartRequest, options, "session options")
        self._session_id = session_id
        self._attached = session_id is not None
        self._info: SessionResponse | None = None
        self._stopped = False
        self.raise_on_failure = raise_on_failure
        self._fallback: AgentFallback | None = None
        self._agent_lock = asyncio.Lock()  # one run()/arun() at a time on this session
        self._guard = threading.Lock()
        self._pending: set[object] = set()
        self._stop_deferred = False

    def __repr__(self) -> str:
        return f"Session(session_id={self._session_id!r}, stopped={self._stopped})"

    # --- identity -------------------------------------------------------------------------------

    @property
    def session_id(self) -> str:
        """The server's id for this session (set once started or attached)."""
        if self._session_id is None:
            raise ConflictError(
                "the session is not started; use `with client.Session() as session:` or call session.start()"
            )
        return self._session_id

    @property
    def started(self) -> bool:
        return self._session_id is not None and not self._stopped

    @property
    def info(self) -> SessionResponse | None:
        """The last session record received from the server."""
        return self._info

    @property
    def options(self) -> SessionStartRequest:
        """The options this session was (or will be) started with; batch jobs copy them."""
        if self._attached and self._info is not None:
            info = self._info
            return SessionStartRequest(
                idle_timeout_minutes=info.idle_timeout_minutes,
                max_duration_minutes=info.max_duration_minutes,
                user_agent=info.user_agent,
                viewport_width=info.viewport_width,
                viewport_height=info.viewport_height,
            )
        return self._request.model_copy()

    # --- the async implementation ---------------------------------------------------------------

    @property
    def _path(self) -> str:
        return f"/sessions/{self.session_id}"

    async def _start(self) -> SessionResponse:
        transport = self._client._transport
        if self._stopped:
            raise ConflictError("this session was stopped; create a new one with client.Session()")
        if self._session_id is not None:
            self._info = await transport.call(SessionResponse, "GET", self._path)
            return self._info
        body = self._request.model_dump(mode="json", exclude_none=True)
        self._info = await transport.call(SessionResponse, "POST", "/sessions/start", json_body=body)
        self._session_id = self._info.session_id
        return self._info

    async def _stop(self) -> None:
        if self._session_id is None or self._stopped:
            return
        self._info = await self._client._transport.call(SessionResponse, "DELETE", f"{self._path}/stop")
        self._stopped = True

    async def _status(self) -> SessionResponse:
        self._info = await self._client._transport.call(SessionResponse, "GET", self._path)
        return self._info

    async def _observe(self, options: dict[str, Any]) -> Observation:
        body = validate_request(ObserveRequest, options, "observe options")
        return await self._client._transport.call(
            Observation, "POST", f"{self._path}/page/observe", json_body=body.model_dump(exclude_none=True)
        )

    async def _send_action(self, action: Action) -> ExecutionResult:
        return await self._client._transport.call(
            ExecutionResult, "POST", f"{self._path}/page/execute", json_body=action.wire()
        )

    async def _execute(
        self, action: Action | dict[str, Any] | None, fields: dict[str, Any], raise_on_failure: bool | None
    ) -> ExecutionResult:
        fallback = self._fallback
        if fallback is not None:
            return await fallback._execute(action, fields)
        result = await self._send_action(build_action(action, fields))
        if not result.success and self._should_raise(raise_on_failure):
            raise ActionFailedError(result)
        return result

    def _should_raise(self, per_call: bool | None) -> bool:
        for choice in (per_call, self.raise_on_failure, self._client.raise_on_failure):
            if choice is not None:
                return choice
        return True

    async def _scrape(self, options: dict[str, Any]) -> DataSpace:
        if "response_format" in options:
            options = {**options, "response_format": schema_of(options["response_format"])}
        body = validate_request(ScrapeRequest, options, "scrape options")
        return await self._client._transport.call(
            DataSpace, "POST", f"{self._path}/page/scrape", json_body=body.model_dump(exclude_none=True)
        )

    async def _debug(self) -> DebugResponse:
        return await self._client._transport.call(DebugResponse, "GET", f"{self._path}/debug")

    async def _offset(self) -> int:
        return (await self._client._transport.call(OffsetResponse, "GET", f"{self._path}/offset")).offset

    # --- public API: blocking and async pairs ---------------------------------------------------

    def start(self) -> SessionResponse:
        """Start the session (or, when attached by id, fetch it)."""
        return self._client._loop.run_sync(self._start())

    async def astart(self) -> SessionResponse:
        return await self._client._loop.run_async(self._start())

    def stop(self) -> None:
        """Stop the session and its browser. Idempotent."""
        self._client._loop.run_sync(self._stop())

    async def astop(self) -> None:
        await self._client._loop.run_async(self._stop())

    def status(self) -> SessionResponse:
        """The session's record: ``status`` is ``active | closed | error | timed_out``."""
        return self._client._loop.run_sync(self._status())

    async def astatus(self) -> SessionResponse:
        return await self._client._loop.run_async(self._status())

    def observe(self, *, screenshot: bool = False, **options: Any) -> Observation:
        """The current page: metadata, interactive elements (ids such as ``B1``), text rendering."""
        return self._client._loop.run_sync(self._observe({"screenshot": screenshot, **options}))

    async def aobserve(self, *, screenshot: bool = False, **options: Any) -> Observation:
        return await self._client._loop.run_async(self._observe({"screenshot": screenshot, **options}))

    def execute(
        self,
        action: Action | dict[str, Any] | None = None,
        *,
        raise_on_failure: bool | None = None,
        **fields: Any,
    ) -> ExecutionResult:
        """Run one action: ``execute(type="click", selector="#buy")``, an action model, or a dict.

        Raises ``ActionFailedError`` on ``success=False`` unless raising on failure is turned off.
        """
        return self._client._loop.run_sync(self._execute(action, fields, raise_on_failure))

    async def aexecute(
        self,
        action: Action | dict[str, Any] | None = None,
        *,
        raise_on_failure: bool | None = None,
        **fields: Any,
    ) -> ExecutionResult:
        return await self._client._loop.run_async(self._execute(action, fields, raise_on_failure))

    @overload
    def scrape(
        self, *, response_format: type[M], raise_on_failure: Literal[True] = ..., **options: Any
    ) -> M: ...
    @overload
    def scrape(self, *, raise_on_failure: bool = ..., **options: Any) -> Any: ...
    def scrape(self, *, raise_on_failure: bool = True, **options: Any) -> Any:
        """The page as markdown; options are ``ScrapeRequest`` fields (``selector``, ...).

        With ``response_format=Model`` the answer is a ``Model`` instance; with a schema dict or
        ``instructions`` alone, the extracted JSON. A failed extraction raises ``ScrapeFailedError``,
        or returns its ``StructuredData`` when ``raise_on_failure=False``.
        """
        return _scrape_answer(self._client._loop.run_sync(self._scrape(options)), options, raise_on_failure)

    async def ascrape(self, *, raise_on_failure: bool = True, **options: Any) -> Any:
        data = await self._client._loop.run_async(self._scrape(options))
        return _scrape_answer(data, options, raise_on_failure)

    def scrape_data(self, **options: Any) -> DataSpace:
        """Everything a scrape returns: ``markdown``, ``images`` and ``structured`` data.

        ``response_format`` may be a pydantic model class (its JSON schema is sent) or a schema dict.
        """
        return self._client._loop.run_sync(self._scrape(options))

    async def ascrape_data(self, **options: Any) -> DataSpace:
        return await self._client._loop.run_async(self._scrape(options))

    def cdp_url(self) -> str:
        """A WebSocket URL for ``playwright.chromium.connect_over_cdp`` into this session's browser."""
        return self._client._loop.run_sync(self._debug()).ws.cdp

    async def acdp_url(self) -> str:
        return (await self._client._loop.run_async(self._debug())).ws.cdp

    def offset(self) -> int:
        """Position in the session's trajectory (actions executed plus agent steps)."""
        return self._client._loop.run_sync(self._offset())

    async def aoffset(self) -> int:
        return await self._client._loop.run_async(self._offset())

    # --- context manager ------------------------------------------------------------------------

    def __enter__(self) -> Session:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._leave(failed=exc is not None):
            return
        if exc is None:
            self.stop()
        else:
            with contextlib.suppress(Exception):  # the block's own error matters more
                self.stop()

    async def __aenter__(self) -> Session:
        await self.astart()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._leave(failed=exc is not None):
            return
        if exc is None:
            await self.astop()
        else:
            with contextlib.suppress(Exception):
                await self.astop()

    # --- runs created in the block but awaited after it -----------------------------------------

    def _leave(self, *, failed: bool) -> bool:
        """Whether the block's exit should stop the session now (else when pending runs end)."""
        with self._guard:
            if self._pending and not failed:
                self._stop_deferred = True
                self._client._deferred.add(self)
                return False
        return True

    def _hold(self) -> object:
        token = object()
        with self._guard:
            self._pending.add(token)
        return token

    def _release(self, token: object) -> bool:
        """Forget a pending run; True if the session's postponed stop is now due."""
        with self._guard:
            self._pending.discard(token)
            due = self._stop_deferred and not self._pending
            if due:
                self._stop_deferred = False
                self._client._deferred.discard(self)
        return due


M = TypeVar("M", bound=BaseModel)


def _scrape_answer(data: DataSpace, options: dict[str, Any], raise_on_failure: bool) -> Any:
    """What ``Session.scrape`` returns for ``data``: markdown, a model instance or the JSON."""
    asked = options.get("response_format")
    if not (asked or options.get("instructions")):
        return data.markdown
    structured = data.structured or StructuredData(success=False, error="the server sent no structured data")
    model = asked if isinstance(asked, type) and issubclass(asked, BaseModel) else None
    if structured.success and model is not None:
        try:
            return model.model_validate(structured.data)
        except ValidationError as exc:
            structured = StructuredData(success=False, error=f"the data does not fit {model.__name__}: {exc}")
    if not structured.success:
        if raise_on_failure:
            raise ScrapeFailedError(structured)
        return structured
    return structured.data
