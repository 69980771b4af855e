"""Agents: ``AsyncAgent``/``Agent`` (one agent on a session) and ``BatchRemoteAgent`` (several jobs).

``AsyncAgent`` holds the implementation and does its I/O in the caller's event loop; ``Agent``
runs it for blocking code on its client's loop. A step stream (``steps()``) and step callbacks
(``on_step=``) follow the agent's live-log WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Literal, Protocol, TypeVar, overload

from pydantic import BaseModel, ValidationError
from websockets.exceptions import ConnectionClosedError

from lanterna.errors import ConflictError, InvalidRequestError
from lanterna.models.agent import AgentStep
from lanterna.sdk.api import Context
from lanterna.sdk.base import error_for, validate_request
from lanterna.sdk.blocking import awaiting, blocking
from lanterna.sdk.polling import poll_until_done
from lanterna.sdk.results import AgentResult, AgentStatus, format_outcome, format_step
from lanterna.sdk.sessions import AnySession, AsyncSession, core_of, schema_of
from lanterna.wire import AgentStartRequest

StepHandler = Callable[[int, AgentStep], None]
"""Called with the step's number (from 1) and the step, as each step arrives."""
ResponseFormat = type[BaseModel] | dict[str, Any] | None

DEFAULT_WAIT_TIMEOUT_S = 15 * 60.0  # a default session cannot live longer
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


def _handler(log: bool, on_step: StepHandler | None) -> StepHandler | None:
    if not log:
        return on_step
    if on_step is None:
        return print_step

    def both(number: int, step: AgentStep) -> None:
        print_step(number, step)
        on_step(number, step)

    return both


class AsyncAgent:
    """An agent that works on one session, for async code: ``client.Agent(session=s, max_steps=10)``.

    ``await agent.run(task=...)`` runs it to its end; ``start`` returns at once, then ``wait``,
    ``status``, ``steps()``, ``watch_logs`` or ``stop``. Each ``start``/``run`` launches a new agent
    on the session; the object then refers to that one. Results are ``AgentResult``: ``success``,
    ``answer``, ``steps`` (typed), ``agent_id``, ``session_id``. Cancelling an awaited ``run``
    stops the agent; cancelling a ``wait`` only stops waiting.

    Two runs on the same session object take turns, since a session runs one agent at a time.
    """

    def __init__(
        self,
        context: Context,
        session: AnySession | str | None = None,
        *,
        agent_id: str | None = None,
        max_steps: int | None = None,
        reasoning_model: str | None = None,
        use_vision: bool = False,
    ) -> None:
        if session is None and agent_id is None:
            raise InvalidRequestError("an agent needs a session: client.Agent(session=session)")
        self.context = context
        self._api = context.api
        self._session = core_of(session) if session is not None and not isinstance(session, str) else None
        self._agent_id = agent_id
        self._session_id: str | None = session if isinstance(session, str) else None
        self.max_steps = max_steps
        self.reasoning_model = reasoning_model
        self.use_vision = use_vision
        self.last_status: AgentStatus | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(agent_id={self._agent_id!r}, session_id={self._session_id!r})"

    @property
    def agent_id(self) -> str:
        if self._agent_id is None:
            raise ConflictError("the agent is not started; call agent.start(task=...) or agent.run(task=...)")
        return self._agent_id

    @property
    def session_id(self) -> str:
        if self._session_id is not None:
            return self._session_id
        if self._session is not None:
            return self._session.session_id
        if self.last_status is not None:
            return self.last_status.session_id
        raise ConflictError("the agent's session is not known until it is started")

    # --- calls ----------------------------------------------------------------------------------

    async def start(
        self,
        task: str,
        *,
        url: str | None = None,
        response_format: ResponseFormat = None,
        session_offset: int | None = None,
    ) -> AgentStatus:
        """Launch the agent and return at once (``status == "active"``).

        ``response_format`` (a pydantic model class or a JSON schema) constrains a successful answer.
        """
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
        status = await self._api.start_agent(request)
        self._agent_id, self._session_id, self.last_status = status.agent_id, status.session_id, status
        return status

    async def status(self) -> AgentStatus:
        """Current status: ``status`` active/closed, ``state``, ``steps`` so far, ``success``, ``answer``."""
        status = await self._api.agent_status(self.agent_id)
        self.last_status = status
        return status

    async def stop(self) -> AgentStatus:
        """Stop the agent; its current action finishes first. Idempotent."""
        known = self._session_id or (self.last_status.session_id if self.last_status else None)
        status = await self._api.stop_agent(self.agent_id, known)
        self.last_status = status
        return status

    async def _follow(self) -> AsyncGenerator[AgentStep | AgentStatus | None, None]:
        """The live log: each step, then the final status (None if the stream ended without one)."""
        if self._session_id is None and self.last_status is None and self._session is None:
            await self.status()  # attached by agent id: learn its session
        async with self._api.agent_logs(self.agent_id, self.session_id) as ws:
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
                            yield AgentStatus.model_validate(data["agent"])
                        except (KeyError, ValidationError):
                            yield None
                        return
                    if "action" in data and "state" in data:
                        try:
                            yield AgentStep.model_validate(data)
                        except ValidationError:
                            continue
            except ConnectionClosedError as e:
                code = e.rcvd.code if e.rcvd is not None else None
                if code is not None and 4000 <= code < 5000:  # the server refused with an HTTP-like code
                    raise error_for(code - 4000, e.rcvd.reason if e.rcvd else "") from e
        yield None

    async def _stream(self, on_step: StepHandler | None) -> AgentStatus | None:
        """Follow the live log until the terminal message; None if the stream ended without one."""
        count = 0
        async with contextlib.aclosing(self._follow()) as events:
            async for event in events:
                if isinstance(event, AgentStep):
                    count += 1
                    if on_step is not None:
                        on_step(count, event)
                else:
                    return event
        return None

    async def steps(self) -> AsyncIterator[AgentStep]:
        """Each step of the started agent as it happens (earlier ones first), until it ends.

        ``async for step in agent.steps(): ...``; afterwards ``agent.last_status`` is its final status.
        """
        seen = 0
        async with contextlib.aclosing(self._follow()) as events:
            async for event in events:
                if isinstance(event, AgentStep):
                    seen += 1
                    yield event
                    continue
                final = event if event is not None and event.done else await self.status()
                if not final.done:  # the stream broke early: poll, and yield the steps still missing
                    final = await poll_until_done(self.status, DEFAULT_WAIT_TIMEOUT_S)
                for step in final.steps[seen:]:
                    yield step
                self.last_status = final
                return

    async def finish(self, on_step: StepHandler | None = None) -> AgentResult:
        """Follow the started agent's live log to its end; its result."""
        final = await self._stream(on_step)
        if final is None or not final.done:
            final = await self.status()
        if not final.done:  # the stream broke early: fall back to polling
            return await self.wait(timeout=DEFAULT_WAIT_TIMEOUT_S)
        self.last_status = final
        return AgentResult.model_validate(final.model_dump())

    async def wait(
        self,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        log: bool = False,
        on_step: StepHandler | None = None,
    ) -> AgentResult:
        """Wait until the agent ends, polling its status; ``TimeoutError`` after ``timeout`` seconds."""
        handler = _handler(log, on_step)
        seen = 0

        def show(status: AgentStatus) -> None:
            nonlocal seen
            if handler is not None:
                for number, step in enumerate(status.steps[seen:], start=seen + 1):
                    handler(number, step)
            seen = len(status.steps)

        final = await poll_until_done(self.status, timeout, show)
        return AgentResult.model_validate(final.model_dump())

    async def execute_run(
        self,
        task: str,
        url: str | None = None,
        response_format: ResponseFormat = None,
        session_offset: int | None = None,
        on_step: StepHandler | None = None,
    ) -> AgentResult:
        """Start, follow to the end, and stop the agent if cancelled meanwhile."""
        turn = self._session.agent_lock if self._session is not None else contextlib.nullcontext()
        async with turn:
            try:
                # A start under way when the cancellation lands still completes (and is stopped).
                await run_to_end(
                    self.start(task, url=url, response_format=response_format, session_offset=session_offset)
                )
                return await self.finish(on_step)
            except asyncio.CancelledError:
                # Whoever cancelled (a timeout, a batch) wants the agent gone, not left running.
                with contextlib.suppress(Exception):
                    await run_to_end(asyncio.wait_for(self.stop(), timeout=STOP_TIMEOUT_S))
                raise

    def run(
        self,
        task: str,
        *,
        url: str | None = None,
        response_format: ResponseFormat = None,
        session_offset: int | None = None,
        log: bool = False,
        on_step: StepHandler | None = None,
    ) -> Coroutine[Any, Any, AgentResult]:
        """Launch the agent and follow it to its end: ``result = await agent.run(task=...)``.

        A run created inside a session's block but awaited after it still runs (the session's
        stop waits for it). ``on_step(number, step)`` is called as each step arrives.
        """
        session = self._session
        token = session.hold() if session is not None else None
        work = self._held_run(
            session,
            token,
            self.execute_run(task, url, response_format, session_offset, _handler(log, on_step)),
        )
        if session is not None:
            # Never awaited: forget it, so a postponed session stop is not held forever.
            weakref.finalize(work, _forget_run, self.context, session, token)
        return work

    async def _held_run(
        self, session: AsyncSession | None, token: object, work: Coroutine[Any, Any, AgentResult]
    ) -> AgentResult:
        try:
            return await work
        finally:
            if session is not None and session.release(token):
                with contextlib.suppress(Exception):
                    await session.stop()

    async def watch_logs(self, log: bool = True) -> AgentStatus:
        """Follow the agent's live log until it ends (printing each step if ``log``); its final status."""
        final = await self.finish(print_step if log else None)
        if log:
            print(format_outcome(final), flush=True)
        return final

    arun = run
    wait_async = wait
    astart, astatus, astop = start, status, stop


def _forget_run(context: Context, session: AsyncSession, token: object) -> None:
    """A run that was never awaited was collected: do the stop it was holding back."""
    if session.release(token):
        context.fire(session.stop())


class Agent:
    """An agent that works on one session, for blocking code: ``client.Agent(session=session)``.

    ``run`` blocks until the agent ends; ``start`` returns at once, then ``wait``, ``status``,
    ``watch_logs``, ``steps()`` or ``stop``; ``arun`` is the async ``run`` (cancelling it stops
    the agent). See ``AsyncAgent`` for results and sessions running one agent at a time.
    """

    def __init__(
        self,
        context: Context,
        session: AnySession | str | None = None,
        *,
        agent_id: str | None = None,
        max_steps: int | None = None,
        reasoning_model: str | None = None,
        use_vision: bool = False,
    ) -> None:
        self.context = context
        self.core = AsyncAgent(
            context,
            session,
            agent_id=agent_id,
            max_steps=max_steps,
            reasoning_model=reasoning_model,
            use_vision=use_vision,
        )

    @classmethod
    def of(cls, core: AsyncAgent) -> Agent:
        """The blocking face of an existing ``AsyncAgent`` (of a blocking client)."""
        agent = cls.__new__(cls)
        agent.context, agent.core = core.context, core
        return agent

    def __repr__(self) -> str:
        return f"Agent(agent_id={self.core._agent_id!r}, session_id={self.core._session_id!r})"

    @property
    def agent_id(self) -> str:
        return self.core.agent_id

    @property
    def session_id(self) -> str:
        return self.core.session_id

    @property
    def last_status(self) -> AgentStatus | None:
        return self.core.last_status

    start, astart = blocking(AsyncAgent.start), awaiting(AsyncAgent.start)
    status, astatus = blocking(AsyncAgent.status), awaiting(AsyncAgent.status)
    stop, astop = blocking(AsyncAgent.stop), awaiting(AsyncAgent.stop)
    wait, wait_async = blocking(AsyncAgent.wait), awaiting(AsyncAgent.wait)
    watch_logs = awaiting(AsyncAgent.watch_logs)

    def run(
        self,
        task: str,
        *,
        url: str | None = None,
        response_format: ResponseFormat = None,
        session_offset: int | None = None,
        log: bool = False,
        on_step: StepHandler | None = None,
    ) -> AgentResult:
        """Launch the agent and block until it ends (following its live log).

        ``response_format`` (a pydantic model class or a JSON schema) constrains a successful answer.
        """
        work = self.core.execute_run(task, url, response_format, session_offset, _handler(log, on_step))
        return self.context.block(work)

    def arun(
        self,
        task: str,
        *,
        url: str | None = None,
        response_format: ResponseFormat = None,
        session_offset: int | None = None,
        log: bool = False,
        on_step: StepHandler | None = None,
    ) -> Coroutine[Any, Any, AgentResult]:
        """Async ``run``: ``result = await agent.arun(task=...)``. Cancelling it stops the agent."""
        work = self.core.run(
            task,
            url=url,
            response_format=response_format,
            session_offset=session_offset,
            log=log,
            on_step=on_step,
        )
        return self.context.run(work)

    async def steps(self) -> AsyncIterator[AgentStep]:
        """Each step of the started agent as it happens, until it ends (see ``AsyncAgent.steps``)."""
        caller = asyncio.get_running_loop()
        arrived: asyncio.Queue[AgentStep | None] = asyncio.Queue()

        async def pump() -> None:
            try:
                async for step in self.core.steps():
                    caller.call_soon_threadsafe(arrived.put_nowait, step)
            finally:
                caller.call_soon_threadsafe(arrived.put_nowait, None)

        follower = asyncio.ensure_future(self.context.run(pump()))
        try:
            while (step := await arrived.get()) is not None:
                yield step
            await follower  # raises what the stream raised
        finally:
            if not follower.done():
                follower.cancel()
                with contextlib.suppress(BaseException):
                    await follower


Strategy = Literal["first_success", "all_finished"]


class HasContext(Protocol):
    @property
    def context(self) -> Context: ...


class BatchRemoteAgent:
    """Run the same task as several agents in parallel, each on its own new session.

    The sessions copy the options of the template ``session`` (started or not; it is not used
    itself). ``first_success`` returns the first successful result and stops the other agents;
    ``all_finished`` returns every result. Every job's session is closed before ``run`` returns.
    If no job succeeds, ``first_success`` returns the result of the job that ended last.
    ``run`` is awaited with either client.
    """

    def __init__(
        self,
        session: AnySession | None = None,
        *,
        max_steps: int | None = None,
        reasoning_model: str | None = None,
        use_vision: bool = False,
        _client: HasContext | None = None,
    ) -> None:
        if _client is not None:
            self.context = _client.context
        elif session is not None:
            self.context = session.context
        else:
            raise InvalidRequestError("BatchRemoteAgent needs a client: pass session=... or _client=client")
        self._template = core_of(session) if session is not None else None
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
        return await self.context.run(self._run(task, n_jobs, strategy, url, response_format))

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
        session = AsyncSession(self.context, **fields)
        try:
            await run_to_end(session.start())  # a start cut short would leave a session we cannot name
            agent = AsyncAgent(
                self.context,
                session,
                max_steps=self.max_steps,
                reasoning_model=self.reasoning_model,
                use_vision=self.use_vision,
            )
            return await agent.execute_run(task, url, response_format)
        finally:
            with contextlib.suppress(Exception):
                await run_to_end(asyncio.wait_for(session.stop(), timeout=STOP_TIMEOUT_S))
