"""``AsyncSession`` (a remote browser session, awaited) and ``Session`` (the same, for blocking code)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType
from typing import Any, Literal, Protocol, TypeVar, overload

from pydantic import BaseModel, ValidationError

from lanterna.errors import ConflictError, InvalidRequestError, validation_details
from lanterna.models.actions import Action, ExecutionResult, parse_action
from lanterna.models.observation import Observation
from lanterna.models.scrape import DataSpace, StructuredData
from lanterna.sdk.api import Context
from lanterna.sdk.base import validate_request
from lanterna.sdk.blocking import awaiting, blocking
from lanterna.sdk.results import ActionFailedError, ScrapeFailedError
from lanterna.wire import (
    ObserveRequest,
    ScrapeRequest,
    SessionResponse,
    SessionStartRequest,
)


class ActionInterceptor(Protocol):
    """Takes over ``execute`` on a session while active (``AgentFallback`` is one)."""

    async def intercept(
        self, action: Action | dict[str, Any] | None, fields: dict[str, Any]
    ) -> ExecutionResult: ...


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
        problems = validation_details(e, limit=10)
        raise InvalidRequestError(f"invalid {data['type']!r} action: {problems}") from e


def schema_of(response_format: type[BaseModel] | dict[str, Any] | None) -> dict[str, Any] | None:
    """A JSON schema from a pydantic model class, a schema dict, or None."""
    if response_format is None or isinstance(response_format, dict):
        return response_format
    if isinstance(response_format, type) and issubclass(response_format, BaseModel):
        return response_format.model_json_schema()
    raise InvalidRequestError("response_format must be a pydantic model class or a JSON schema dict")


class AsyncSession:
    """A browser session on a lanterna server, for async code (made by ``AsyncClient.Session``).

    ``client.Session(**options)`` describes a new session (options are those of
    ``SessionStartRequest``: ``idle_timeout_minutes``, ``max_duration_minutes``, ``viewport_width``
    and ``viewport_height``, ``user_agent``, ``chrome_args``, ...); ``client.Session(session_id)``
    attaches to an existing one. ``async with`` starts it on entry and stops it on exit, also
    when the block raises. Every method is a coroutine; the ``a``-prefixed names
    (``aobserve``, ...) are aliases, so code written for the blocking ``Session`` reads the same.

    ``execute`` raises ``ActionFailedError`` when an action fails (``success=False``), unless
    ``raise_on_failure=False`` is given to the call, the session or the client. Inside
    ``client.AgentFallback(session, ...)`` it never raises for a failed action.

    Leaving the block while an agent run created in it has not been awaited yet postpones the
    stop until that run ends, so agents gathered after the block still run.
    """

    def __init__(
        self,
        context: Context,
        session_id: str | None = None,
        *,
        raise_on_failure: bool | None = None,
        **options: Any,
    ) -> None:
        if session_id is not None and options:
            raise InvalidRequestError(
                "give either a session id (to attach) or start options (to start a new session), not both"
            )
        self.context = context
        self._api = context.api
        self._request = validate_request(SessionStartRequest, options, "session options")
        self._session_id = session_id
        self._attached = session_id is not None
        self._info: SessionResponse | None = None
        self._stopped = False
        self.raise_on_failure = raise_on_failure
        self.interceptor: ActionInterceptor | None = None
        self.agent_lock = asyncio.Lock()  # one agent run at a time on this session
        self._guard = threading.Lock()
        self._pending: set[object] = set()
        self._stop_deferred = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(session_id={self._session_id!r}, stopped={self._stopped})"

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

    # --- calls ----------------------------------------------------------------------------------

    async def start(self) -> SessionResponse:
        """Start the session (or, when attached by id, fetch it)."""
        if self._stopped:
            raise ConflictError("this session was stopped; create a new one with client.Session()")
        if self._session_id is not None:
            self._info = await self._api.session(self._session_id)
            return self._info
        self._info = await self._api.start_session(self._request)
        self._session_id = self._info.session_id
        return self._info

    async def stop(self) -> None:
        """Stop the session and its browser. Idempotent."""
        if self._session_id is None or self._stopped:
            return
        self._info = await self._api.stop_session(self._session_id)
        self._stopped = True

    async def status(self) -> SessionResponse:
        """The session's record: ``status`` is ``active | closed | error | timed_out``."""
        self._info = await self._api.session(self.session_id)
        return self._info

    async def observe(self, *, screenshot: bool = False, **options: Any) -> Observation:
        """The current page: metadata, interactive elements (ids such as ``B1``), text rendering."""
        body = validate_request(ObserveRequest, {"screenshot": screenshot, **options}, "observe options")
        return await self._api.observe(self.session_id, body)

    async def send_action(self, action: Action) -> ExecutionResult:
        """Send one action as is (no fallback, no raising on failure)."""
        return await self._api.execute(self.session_id, action)

    async def execute(
        self,
        action: Action | dict[str, Any] | None = None,
        *,
        raise_on_failure: bool | None = None,
        **fields: Any,
    ) -> ExecutionResult:
        """Run one action: ``execute(type="click", selector="#buy")``, an action model, or a dict.

        Raises ``ActionFailedError`` on ``success=False`` unless raising on failure is turned off.
        """
        if self.interceptor is not None:
            return await self.interceptor.intercept(action, fields)
        result = await self.send_action(build_action(action, fields))
        if not result.success and self._should_raise(raise_on_failure):
            raise ActionFailedError(result)
        return result

    def _should_raise(self, per_call: bool | None) -> bool:
        for choice in (per_call, self.raise_on_failure, self.context.raise_on_failure):
            if choice is not None:
                return choice
        return True

    async def scrape_data(self, **options: Any) -> DataSpace:
        """Everything a scrape returns: ``markdown``, ``images`` and ``structured`` data.

        ``response_format`` may be a pydantic model class (its JSON schema is sent) or a schema dict.
        """
        if "response_format" in options:
            options = {**options, "response_format": schema_of(options["response_format"])}
        body = validate_request(ScrapeRequest, options, "scrape options")
        return await self._api.scrape(self.session_id, body)

    async def scrape(self, *, raise_on_failure: bool = True, **options: Any) -> Any:
        """The page as markdown; options are ``ScrapeRequest`` fields (``selector``, ...).

        With ``response_format=Model`` the answer is a ``Model`` instance; with a schema dict or
        ``instructions`` alone, the extracted JSON. A failed extraction raises ``ScrapeFailedError``,
        or returns its ``StructuredData`` when ``raise_on_failure=False``.
        """
        return _scrape_answer(await self.scrape_data(**options), options, raise_on_failure)

    async def cdp_url(self) -> str:
        """A WebSocket URL for ``playwright.chromium.connect_over_cdp`` into this session's browser."""
        return (await self._api.debug(self.session_id)).ws.cdp

    async def offset(self) -> int:
        """Position in the session's trajectory (actions executed plus agent steps)."""
        return await self._api.offset(self.session_id)

    astart, astop, astatus, aobserve, aexecute = start, stop, status, observe, execute
    ascrape, ascrape_data, acdp_url, aoffset = scrape, scrape_data, cdp_url, offset

    # --- context manager ------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncSession:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.leave(failed=exc is not None):
            return
        if exc is None:
            await self.stop()
        else:
            with contextlib.suppress(Exception):  # the block's own error matters more
                await self.stop()

    # --- runs created in the block but awaited after it -----------------------------------------

    def leave(self, *, failed: bool) -> bool:
        """Whether the block's exit should stop the session now (else when pending runs end)."""
        with self._guard:
            if self._pending and not failed:
                self._stop_deferred = True
                self.context.postponed.add(self)
                return False
        return True

    def hold(self) -> object:
        """Mark an agent run as pending on this session; give the token back to ``release``."""
        token = object()
        with self._guard:
            self._pending.add(token)
        return token

    def release(self, token: object) -> bool:
        """Forget a pending run; True if the session's postponed stop is now due."""
        with self._guard:
            self._pending.discard(token)
            due = self._stop_deferred and not self._pending
            if due:
                self._stop_deferred = False
                self.context.postponed.discard(self)
        return due


class Session:
    """A browser session on a lanterna server, for blocking code (made by ``Client.Session``).

    The same as ``AsyncSession`` (options, attaching by id, raising on failure, postponed stop),
    with blocking methods and ``a``-prefixed async twins (``observe``/``aobserve``); ``with`` and
    ``async with`` both start it on entry and stop it on exit.
    """

    def __init__(
        self,
        context: Context,
        session_id: str | None = None,
        *,
        raise_on_failure: bool | None = None,
        **options: Any,
    ) -> None:
        self.core = AsyncSession(context, session_id, raise_on_failure=raise_on_failure, **options)
        self.context = context

    def __repr__(self) -> str:
        return f"Session(session_id={self.core._session_id!r}, stopped={self.core._stopped})"

    @property
    def session_id(self) -> str:
        """The server's id for this session (set once started or attached)."""
        return self.core.session_id

    @property
    def started(self) -> bool:
        return self.core.started

    @property
    def info(self) -> SessionResponse | None:
        """The last session record received from the server."""
        return self.core.info

    @property
    def options(self) -> SessionStartRequest:
        """The options this session was (or will be) started with; batch jobs copy them."""
        return self.core.options

    @property
    def raise_on_failure(self) -> bool | None:
        return self.core.raise_on_failure

    @raise_on_failure.setter
    def raise_on_failure(self, value: bool | None) -> None:
        self.core.raise_on_failure = value

    start, astart = blocking(AsyncSession.start), awaiting(AsyncSession.start)
    stop, astop = blocking(AsyncSession.stop), awaiting(AsyncSession.stop)
    status, astatus = blocking(AsyncSession.status), awaiting(AsyncSession.status)
    observe, aobserve = blocking(AsyncSession.observe), awaiting(AsyncSession.observe)
    execute, aexecute = blocking(AsyncSession.execute), awaiting(AsyncSession.execute)
    scrape_data, ascrape_data = blocking(AsyncSession.scrape_data), awaiting(AsyncSession.scrape_data)
    ascrape = awaiting(AsyncSession.scrape)
    cdp_url, acdp_url = blocking(AsyncSession.cdp_url), awaiting(AsyncSession.cdp_url)
    offset, aoffset = blocking(AsyncSession.offset), awaiting(AsyncSession.offset)

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
        return self.context.block(self.core.scrape(raise_on_failure=raise_on_failure, **options))

    def __enter__(self) -> Session:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.core.leave(failed=exc is not None):
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
        if not self.core.leave(failed=exc is not None):
            return
        if exc is None:
            await self.astop()
        else:
            with contextlib.suppress(Exception):
                await self.astop()


AnySession = AsyncSession | Session


def core_of(session: AnySession) -> AsyncSession:
    """The async session behind either flavour."""
    return session.core if isinstance(session, Session) else session


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
