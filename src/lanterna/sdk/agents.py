"""``Agent`` (one agent on a session) and ``BatchRemoteAgent`` (several jobs, each on its own session)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pydantic import BaseModel, ValidationError
from websockets.exceptions import ConnectionClosedError

from lanterna.errors import ConflictError, InvalidRequestError
from lanterna.models.agent import AgentStep
from lanterna.sdk.results import AgentResult, AgentStatus, format_outcome, format_step
from lanterna.sdk.sessions import Session, schema_of
from lanterna.sdk.transport import error_for, validate_request
from lanterna.wire import AgentStartRequest

if TYPE_CHECKING:
    from lanterna.sdk.client import Client

StepHandler = Callable[[int, AgentStep], None]
ResponseFormat = type[BaseModel] | dict[str, Any] | None

DEFAULT_WAIT_TIMEOUT_S = 15 * 60.0  # a default session cannot live longer
_POLL_FIRST_S, _POLL_MAX_S = 0.2, 2.0


STOP_TIMEOUT_S = 15.0
T = TypeVar("T")


async def run_to_end(work: Awaitable[T]) -> T:
    """Await ``work`` to its end even if the caller is cancelled meanwhile, then re-raise.

    For requests whose effect must not be lost: a start (its id is needed to clean up) and a
    stop (a session left open holds a browser).
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


def print_step(number: int, step: AgentStep) -> None:
    print(format_step(number, step), flush=True)


class Agent:
    """An agent that works on one session: ``client.Agent(session=session, max_steps=10)``.

    ``run`` blocks until the agent ends; ``start`` returns at once, then ``wait``, ``status``,
    ``watch_logs`` or ``stop``; ``arun`` is the async ``run``. Each ``start``/``run`` launches a new
    agent on the session; the object then refers to that one. Results are ``AgentResult``:
    ``success``, ``answer``, ``steps`` (typed), ``agent_id``, ``session_id``.

    Two runs (``run``/``arun``) on the same ``Session`` object take turns, since a session runs
    one agent at a time.
    """

    def __init__(
        self,
        client: Client,
        session: Session | str | None = None,
        *,
        agent_id: str | None = None,
        max_steps: int | None = None,
        reasoning_model: str | None = None,
        use_vision: bool = False,
    ) -> None:
        if session is None and agent_id is None:
            raise InvalidRequestError("an agent needs a session: client.Agent(session=session)")
        self._client = client
        self._session = session
        self._agent_id = agent_id
        self._session_id: str | None = session if isinstance(session, str) else None
        self.max_steps = max_steps
        self.reasoning_model = reasoning_model
        self.use_vision = use_vision
        self.last_status: AgentStatus | None = None

    def __repr__(self) -> str:
        return f"Agent(agent_id={self._agent_id!r}, session_id={self._session_id!r})"

    @property
    def agent_id(self) -> str:
        if self._agent_id is None:
            raise ConflictError("the agent is not started; call agent.start(task=...) or agent.run(task=...)")
        return self._agent_id

    @property
    def session_id(self) -> str:
        if self._session_id is not None:
            return self._session_id
        if isinstance(self._session, Session):
            return self._session.session_id
        if self.last_status is not None:
            return self.last_status.session_id
        raise ConflictError("the agent's session is not known until it is started")

    # --- the async implementation ---------------------------------------------------------------

    async def _start(
        self, task: str, url: str | None, response_format: ResponseFormat, session_offset: int | None
    ) -> AgentStatus:
        fields = {
            "task": task,
            "session_id": self.session_id,
            "url": url,
            "response_format": schema_of(response_format),
            "session_offset": session_offset,
            "reasoning_model": self.reasoning_model,
            "use_vision": self.use_vision,
            "max_steps": self.max_steps,
        }
        request = validate_request(
            AgentStartRequest, {k: v for k, v in fields.items() if v is not None}, "agent request"
        )
        status = await self._client._transport.call(
            AgentStatus, "POST", "/agents/start", json_body=request.model_dump(mode="json", exclude_none=True)
        )
        self._agent_id, self._session_id, self.last_status = status.agent_id, status.session_id, status
        return status

    async def _status(self) -> AgentStatus:
        status = await self._client._transport.call(AgentStatus, "GET", f"/agents/{self.agent_id}")
        self.last_status = status
        return status

    async def _stop(self) -> AgentStatus:
        known = self._session_id or (self.last_status.session_id if self.last_status else None)
        params = {"session_id": known} if known else None
        status = await self._client._transport.call(
            AgentStatus, "DELETE", f"/agents/{self.agent_id}/stop", params=params
        )
        self.last_status = status
        return status

    async def _stream(self, on_step: StepHandler | None) -> AgentStatus | None:
        """Follow the live log until the terminal message; None if the stream ended without one."""
        count = 0
        path = f"/agents/{self.agent_id}/debug/logs"
        if self._session_id is None and self.last_status is None and not isinstance(self._session, Session):
            await self._status()  # attached by agent id: learn its session
        async with self._client._transport.websocket(path, {"session_id": self.session_id}) as ws:
            try:
                async for message in ws:
                    try:
                        data = json.loads(message)
                    except ValueError:
                        continue
                    if not isinstance(data, dict):
                        continue
                    if data.get("status") == "agent_stop":
                        try:
                            return AgentStatus.model_validate(data["agent"])
                        except (KeyError, ValidationError):
                            return None
                    if "action" in data and "state" in data:
                        try:
                            step = AgentStep.model_validate(data)
                        except ValidationError:
                            continue
                        count += 1
                        if on_step is not None:
                            on_step(count, step)
            except ConnectionClosedError as e:
                code = e.rcvd.code if e.rcvd is not None else None
                if code is not None and 4000 <= code < 5000:  # the server refused with an HTTP-like code
                    raise error_for(code - 4000, e.rcvd.reason if e.rcvd else "") from e
                return None
        return None

    async def _finish(self, on_step: StepHandler | None) -> AgentResult:
        final = await self._stream(on_step)
        if final is None or not final.done:
            final = await self._status()
        if not final.done:  # the stream broke early: fall back to polling
            return await self._wait(DEFAULT_WAIT_TIMEOUT_S, None)
        self.last_status = final
        return AgentResult.model_validate(final.model_dump())

    async def _wait(self, timeout_s: float, on_step: StepHandler | None) -> AgentResult:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        delay, seen = _POLL_FIRST_S, 0
        while True:
            status = await self._status()
            if on_step is not None:
                for number, step in enumerate(status.steps[seen:], start=seen + 1):
                    on_step(number, step)
                seen = len(status.steps)
            if status.done:
                return AgentResult.model_validate(status.model_dump())
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"agent {self.agent_id} still running after {timeout_s:.0f}s; "
                    "call agent.stop() or wait again with a longer timeout"
                )
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 1.5, _POLL_MAX_S)

    async def _run(
        self,
        task: str,
        url: str | None,
        response_format: ResponseFormat,
        session_offset: int | None,
        on_step: StepHandler | None,
    ) -> AgentResult:
        turn = self._session._agent_lock if isinstance(self._session, Session) else contextlib.nullcontext()
        async with turn:
            await run_to_end(self._start(task, url, response_format, session_offset))
            try:
                return await self._finish(on_step)
            except asyncio.CancelledError:
                # Whoever cancelled (a timeout, a batch) wants the agent gone, not left running.
                with contextlib.suppress(Exception):
                    await run_to_end(asyncio.wait_for(self._stop(), timeout=STOP_TIMEOUT_S))
                raise

    # --- public API -----------------------------------------------------------------------------

    def start(
        self,
        task: str,
        *,
        url: str | None = None,
        response_format: ResponseFormat = None,
        session_offset: int | None = None,
    ) -> AgentStatus:
        """Launch the agent and return at once (``status == "active"``)."""
        return self._client._loop.run_sync(self._start(task, url, response_format, session_offset))

    async def astart(
        self,
        task: str,
        *,
        url: str | None = None,
        response_format: ResponseFormat = None,
        session_offset: int | None = None,
    ) -> AgentStatus:
        return await self._client._loop.run_async(self._start(task, url, response_format, session_offset))

    def run(
        self,
        task: str,
        *,
        url: str | None = None,
        response_format: ResponseFormat = None,
        session_offset: int | None = None,
        log: bool = False,
    ) -> AgentResult:
        """Launch the agent and block until it ends (following its live log).

        ``response_format`` (a pydantic model class or a JSON schema) constrains a successful answer.
        """
        handler = print_step if log else None
        return self._client._loop.run_sync(self._run(task, url, response_format, session_offset, handler))

    def arun(
        self,
        task: str,
        *,
        url: str | None = None,
        response_format: ResponseFormat = None,
        session_offset: int | None = None,
        log: bool = False,
    ) -> Coroutine[Any, Any, AgentResult]:
        """Async ``run``: ``result = await agent.arun(task=...)``. Cancelling it stops the agent."""
        session = self._session if isinstance(self._session, Session) else None
        token = session._hold() if session is not None else None
        handler = print_step if log else None
        run = self._arun(session, token, task, url, response_format, session_offset, handler)
        if session is not None:
            # Never awaited: forget it, so a postponed session stop is not held forever.
            weakref.finalize(run, self._client._forget_run, session, token)
        return run

    async def _arun(
        self,
        session: Session | None,
        token: object,
        task: str,
        url: str | None,
        response_format: ResponseFormat,
        session_offset: int | None,
        handler: StepHandler | None,
    ) -> AgentResult:
        try:
            run = self._run(task, url, response_format, session_offset, handler)
            return await self._client._loop.run_async(run)
        finally:
            if session is not None and session._release(token):
                with contextlib.suppress(Exception):
                    await self._client._loop.run_async(session._stop())

    def wait(self, *, timeout: float = DEFAULT_WAIT_TIMEOUT_S, log: bool = False) -> AgentResult:
        """Block until the agent ends, polling its status; ``TimeoutError`` after ``timeout`` seconds."""
        handler = print_step if log else None
        return self._client._loop.run_sync(self._wait(timeout, handler))

    async def wait_async(self, *, timeout: float = DEFAULT_WAIT_TIMEOUT_S, log: bool = False) -> AgentResult:
        """Async ``wait`` (``await`` is a keyword, hence the name)."""
        handler = print_step if log else None
        return await self._client._loop.run_async(self._wait(timeout, handler))

    def status(self) -> AgentStatus:
        """Current status: ``status`` active/closed, ``state``, ``steps`` so far, ``success``, ``answer``."""
        return self._client._loop.run_sync(self._status())

    async def astatus(self) -> AgentStatus:
        return await self._client._loop.run_async(self._status())

    async def watch_logs(self, log: bool = True) -> AgentStatus:
        """Follow the agent's live log until it ends (printing each step if ``log``); its final status."""
        handler = print_step if log else None
        final = await self._client._loop.run_async(self._finish(handler))
        if log:
            print(format_outcome(final), flush=True)
        return final

    def stop(self) -> AgentStatus:
        """Stop the agent; its current action finishes first. Idempotent."""
        return self._client._loop.run_sync(self._stop())

    async def astop(self) -> AgentStatus:
        return await self._client._loop.run_async(self._stop())


Strategy = Literal["first_success", "all_finished"]


class BatchRemoteAgent:
    """Run the same task as several agents in parallel, each on its own new session.

    The sessions copy the options of the template ``session`` (started or not; it is not used
    itself). ``first_success`` returns the first successful result and stops the other agents;
    ``all_finished`` returns every result. Every job's session is closed before ``run`` returns.
    If no job succeeds, ``first_success`` returns the result of the job that ended last.
    """

    def __init__(
        self,
        session: Session | None = None,
        *,
        max_steps: int | None = None,
        reasoning_model: str | None = None,
        use_vision: bool = False,
        _client: Client | None = None,
    ) -> None:
        client = _client if _client is not None else (session._client if session is not None else None)
        if client is None:
            raise InvalidRequestError("BatchRemoteAgent needs a client: pass session=... or _client=client")
        self._client = client
        self._template = session
        self.max_steps = max_steps
        self.reasoning_model = reasoning_model
        self.use_vision = use_vision

    @overload
    async def run(
        self,
        task: str,
        *,
        n_jobs: int = ...,
        strategy: Literal["first_success"] = ...,
        url: str | None = ...,
        response_format: ResponseFormat = ...,
    ) -> AgentResult: ...

    @overload
    async def run(
        self,
        task: str,
        *,
        n_jobs: int = ...,
        strategy: Literal["all_finished"],
        url: str | None = ...,
        response_format: ResponseFormat = ...,
    ) -> list[AgentResult]: ...

    async def run(
        self,
        task: str,
        *,
        n_jobs: int = 2,
        strategy: Strategy = "first_success",
        url: str | None = None,
        response_format: ResponseFormat = None,
    ) -> AgentResult | list[AgentResult]:
        """Run ``n_jobs`` agents on ``task``; see the class docstring for the strategies."""
        if n_jobs < 1:
            raise InvalidRequestError("n_jobs must be at least 1")
        if strategy not in ("first_success", "all_finished"):
            raise InvalidRequestError("strategy must be 'first_success' or 'all_finished'")
        return await self._client._loop.run_async(self._run(task, n_jobs, strategy, url, response_format))

    async def _run(
        self, task: str, n_jobs: int, strategy: Strategy, url: str | None, response_format: ResponseFormat
    ) -> AgentResult | list[AgentResult]:
        jobs = [asyncio.ensure_future(self._job(task, url, response_format)) for _ in range(n_jobs)]
        try:
            if strategy == "all_finished":
                outcomes = await asyncio.gather(*jobs, return_exceptions=True)
                results = [o for o in outcomes if isinstance(o, AgentResult)]
                errors = [o for o in outcomes if isinstance(o, BaseException)]
                if errors:
                    raise errors[0]
                return results
            last: AgentResult | None = None
            first_error: BaseException | None = None
            for next_done in asyncio.as_completed(jobs):
                try:
                    result = await next_done
                except Exception as e:
                    first_error = first_error or e
                    continue
                if result.success:
                    return result
                last = result
            if last is not None:
                return last
            assert first_error is not None
            raise first_error
        finally:
            for job in jobs:
                job.cancel()  # the losers stop their agent and close their session
            await asyncio.gather(*jobs, return_exceptions=True)

    async def _job(self, task: str, url: str | None, response_format: ResponseFormat) -> AgentResult:
        options = self._template.options if self._template is not None else None
        fields = options.model_dump(exclude_none=True) if options is not None else {}
        session = Session(self._client, **fields)
        try:
            await run_to_end(session._start())  # a start cut short would leave a session we cannot name
            agent = Agent(
                self._client,
                session,
                max_steps=self.max_steps,
                reasoning_model=self.reasoning_model,
                use_vision=self.use_vision,
            )
            return await agent._run(task, url, response_format, None, None)
        finally:
            with contextlib.suppress(Exception):
                await run_to_end(asyncio.wait_for(session._stop(), timeout=STOP_TIMEOUT_S))
