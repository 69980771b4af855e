"""Agent runs as tenants see them: start on a session, status, stop, live events, persistence.

One agent runs per session at a time. Each run is an asyncio task executing the agent loop;
its steps are persisted and fanned out to subscribers as they happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from lanterna.agent.loop import AgentTask, run_agent, schema_problem
from lanterna.browser import BrowserSession
from lanterna.config import Settings
from lanterna.errors import ConflictError, InvalidRequestError, NotFoundError
from lanterna.models.agent import AgentEnded, AgentOutcome, AgentRequest, AgentRun, AgentState, AgentStep
from lanterna.models.paging import Page
from lanterna.models.time import utc_now
from lanterna.models.vault import AgentVault
from lanterna.reasoners.base import Decision, Reasoner, ReasonerInput
from lanterna.reasoners.registry import SCRIPTED_PREFIX, create_reasoner, resolve_model
from lanterna.recording import FrameKind
from lanterna.runs.events import AgentEvents
from lanterna.runs.recordings import RecordingService, step_label
from lanterna.runs.sessions import SHUTDOWN, SessionService
from lanterna.store import AgentRecord, Store
from lanterna.store.uploads import uploads_folder

log = logging.getLogger(__name__)

# How long a session close waits for the running action before interrupting it.
SESSION_CLOSE_GRACE_S = 10.0
# After a cancel, how long to wait for the run to record its end.
CANCEL_GRACE_S = 5.0


class WorkflowCode(BaseModel):
    """An agent's actions as a replayable script and as JSON (``GET /agents/{id}/workflow/code``)."""

    python_script: str
    json_actions: list[dict[str, Any]]


@dataclass
class _Run:
    record: AgentRecord
    browser: BrowserSession
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    events: AgentEvents = field(default_factory=AgentEvents)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    session_closed: str | None = None  # why the session ended under the agent, if it did
    shut_down: bool = False  # the server is shutting down
    stopped_because: str | None = None  # why the server stopped it (e.g. its API key was revoked)

    @property
    def agent_id(self) -> str:
        return self.record.id

    @property
    def tenant(self) -> str:
        return self.record.tenant

    @property
    def session_id(self) -> str:
        return self.record.session_id


class _StepWriter:
    """Persists one run's steps in order, off the loop's path: the next step need not wait for the disk.

    Steps reach subscribers at once and the store a few milliseconds later; the run's end is
    recorded only after every step is saved.
    """

    def __init__(self, store: Store, agent_id: str) -> None:
        self._store = store
        self._agent_id = agent_id
        self._queue: asyncio.Queue[AgentStep | None] = asyncio.Queue()
        self.error: str | None = None
        self._task = asyncio.create_task(self._drain(), name=f"agent-{agent_id}-writer")

    def put(self, step: AgentStep) -> None:
        """Queue ``step``; raises once a save has failed, which ends the run."""
        if self.error is not None:
            raise RuntimeError(f"could not save the steps: {self.error}")
        self._queue.put_nowait(step)

    async def _drain(self) -> None:
        while (step := await self._queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                await self._store.agents.add_step(self._agent_id, step)
            except Exception as exc:
                log.exception("could not save a step of agent %s", self._agent_id)
                self.error = str(exc) or type(exc).__name__

    async def close(self, timeout_s: float = 30.0) -> None:
        """Wait until every queued step is saved (bounded)."""
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
        except TimeoutError:
            self._task.cancel()
            self.error = self.error or f"the store did not answer within {timeout_s:.0f} s"


class _Settling:
    """A reasoner whose decisions wait for the previous step's screenshot, so it shows that
    step's page and not the next action under way (it is taken alongside the observation)."""

    def __init__(self, reasoner: Reasoner, recordings: RecordingService, session_id: str) -> None:
        self._reasoner = reasoner
        self._recordings = recordings
        self._session_id = session_id

    async def decide(self, input: ReasonerInput) -> Decision:
        decision = await self._reasoner.decide(input)
        await self._recordings.settle(self._session_id)
        return decision


class FinishedRuns:
    """Closed agents as last reported, least recently used forgotten first: a closed agent never
    changes, so polling it needs no database. A run is only given to the tenant that owns it."""

    def __init__(self, max_runs: int = 4096) -> None:
        self._max_runs = max_runs
        self._runs: OrderedDict[str, tuple[str, AgentRun]] = OrderedDict()  # agent id -> (tenant, run)

    def get(self, tenant: str, agent_id: str) -> AgentRun | None:
        entry = self._runs.get(agent_id)
        if entry is None or entry[0] != tenant:
            return None
        self._runs.move_to_end(agent_id)
        return entry[1]

    def put(self, tenant: str, run: AgentRun) -> None:
        self._runs[run.agent_id] = (tenant, run)
        self._runs.move_to_end(run.agent_id)
        while len(self._runs) > self._max_runs:
            self._runs.popitem(last=False)


def _not_found(agent_id: str) -> NotFoundError:
    return NotFoundError(f"agent {agent_id} not found; list your agents with GET /agents")


class AgentService:
    """Starts, tracks and stops agent runs. ``close()`` ends the runs still going (server shutdown)."""

    def __init__(self, *, store: Store, sessions: SessionService, settings: Settings) -> None:
        self._store = store
        self._sessions = sessions
        self._settings = settings
        self._runs: dict[str, _Run] = {}
        self._by_session: dict[str, str] = {}  # session id -> id of the agent running on it
        self._finished = FinishedRuns()
        sessions.on_close(self._session_closed)

    @property
    def stop_timeout_s(self) -> float:
        """How long ``stop`` waits for the running action: a navigation may take its full timeout."""
        return self._settings.navigation_timeout_ms / 1000 + 5

    # ----- lifecycle ---------------------------------------------------------------------

    async def start(
        self,
        tenant: str,
        request: AgentRequest,
        *,
        reasoner: Reasoner | None = None,
        vault: AgentVault | None = None,
    ) -> AgentRun:
        """Start an agent on the tenant's session; it runs in the background.

        ``NotFoundError`` for an unknown session, ``ConflictError`` for a closed or busy one,
        ``InvalidRequestError`` for an unusable model or response_format. ``reasoner`` replaces
        the one the model string names (for embedding and tests).
        """
        if request.response_format is not None and (problem := schema_problem(request.response_format)):
            raise InvalidRequestError(problem)
        browser = await self._sessions.live(tenant, request.session_id)
        model = resolve_model(request.reasoning_model, self._settings)
        if reasoner is None:
            reasoner = create_reasoner(model, self._settings)
        busy = self._by_session.get(request.session_id)
        if busy is not None:
            raise ConflictError(
                f"session {request.session_id} already runs agent {busy}; stop it "
                f"(DELETE /agents/{busy}/stop) or wait for it to finish"
            )
        agent_id = str(uuid.uuid4())
        self._by_session[request.session_id] = agent_id  # claimed before any await: no double start
        try:
            offset = await self._store.agents.session_offset(request.session_id)
            record = AgentRecord(
                id=agent_id,
                tenant=tenant,
                session_id=request.session_id,
                task=request.task,
                url=request.url,
                reasoning_model=_model_name(model),
                max_steps=request.max_steps,
                use_vision=request.use_vision,
                response_format=request.response_format,
                created_at=utc_now(),
                replay_start_offset=offset if request.session_offset is None else request.session_offset,
                replay_stop_offset=offset,
            )
            await self._store.agents.create(record)
        except BaseException:
            self._by_session.pop(request.session_id, None)
            raise
        run = _Run(record=record, browser=browser)
        self._runs[agent_id] = run
        task = AgentTask(
            task=request.task,
            url=request.url,
            max_steps=request.max_steps,
            response_format=request.response_format,
            use_vision=request.use_vision,
        )
        run.task = asyncio.create_task(self._run(run, reasoner, task, vault), name=f"agent-{agent_id}")
        return _run_of(record, [])

    async def status(self, tenant: str, agent_id: str) -> AgentRun:
        """The agent with every step so far (a closed one from memory once it was read)."""
        finished = self._finished.get(tenant, agent_id)
        if finished is not None:
            return finished
        record = await self._record(tenant, agent_id)
        run = self._runs.get(agent_id)
        steps = list(run.events.steps) if run is not None else await self._store.agents.steps(agent_id)
        reported = _run_of(record, steps)
        if reported.state.status == "closed":
            self._finished.put(tenant, reported)
        return reported

    async def list(
        self, tenant: str, *, only_active: bool = False, page: int = 1, page_size: int = 20
    ) -> Page[AgentRun]:
        """One page of the tenant's agents, newest first (without their steps)."""
        records, total = await self._store.agents.list(
            tenant, only_active=only_active, page=page, page_size=page_size
        )
        items = [_run_of(r, []) for r in records]
        return Page[AgentRun](items=items, page=page, page_size=page_size, total=total)

    async def stop(self, tenant: str, agent_id: str) -> AgentRun:
        """Stop the agent after its current action and return its final status. Idempotent."""
        await self._record(tenant, agent_id)
        run = self._runs.get(agent_id)
        if run is not None:
            await self._end(run, self.stop_timeout_s)
        return await self.status(tenant, agent_id)

    async def subscribe(self, tenant: str, agent_id: str) -> AsyncIterator[AgentStep | AgentEnded]:
        """Past steps, live steps as they happen, then the stop message with the final status."""
        record = await self._record(tenant, agent_id)
        run = self._runs.get(agent_id)
        if run is not None:
            async for event in run.events.subscribe():
                yield event
            return
        status = _run_of(record, await self._store.agents.steps(agent_id))
        for step in status.steps:
            yield step
        yield AgentEnded(agent=status)

    async def workflow_code(self, tenant: str, agent_id: str) -> WorkflowCode:
        """The agent's browser actions as a script that replays them on a new session."""
        status = await self.status(tenant, agent_id)
        actions = [s.action.wire() for s in status.steps if s.action.type != "completion"]
        lines = [
            "from lanterna import Client",
            "",
            "client = Client()",
            "with client.Session() as session:",
            *(
                "    session.execute(" + ", ".join(f"{k}={v!r}" for k, v in action.items()) + ")"
                for action in actions
            ),
        ]
        if not actions:
            lines.append("    pass  # the agent took no browser action")
        return WorkflowCode(python_script="\n".join(lines) + "\n", json_actions=actions)

    def tenants(self) -> set[str]:
        """Tenants with a running agent."""
        return {run.tenant for run in self._runs.values()}

    async def stop_tenant(self, tenant: str, reason: str) -> None:
        """Stop every running agent of ``tenant``; each answers ``stopped: <reason>``."""
        runs = [run for run in list(self._runs.values()) if run.tenant == tenant]
        for run in runs:
            run.stopped_because = reason
        await asyncio.gather(*(self._end(run, self.stop_timeout_s) for run in runs))

    async def close(self) -> None:
        """End every run (server shutdown): running actions get a short grace period, and each
        agent answers that the server shut down."""
        runs = list(self._runs.values())
        for run in runs:
            run.shut_down = True
        await asyncio.gather(*(self._end(run, CANCEL_GRACE_S) for run in runs))

    # ----- the run -----------------------------------------------------------------------

    async def _run(self, run: _Run, reasoner: Reasoner, task: AgentTask, vault: AgentVault | None) -> None:
        writer = _StepWriter(self._store, run.agent_id)

        async def on_step(step: AgentStep) -> None:
            if self._sessions.recordings is not None:  # taken alongside the next observation
                label = step_label(run.agent_id, len(run.events.steps) + 1)
                self._sessions.recordings.screenshot(run.session_id, FrameKind.step, label)
            writer.put(step)
            await run.events.publish(step)

        if self._sessions.recordings is not None:
            reasoner = _Settling(reasoner, self._sessions.recordings, run.session_id)
        try:
            outcome = await run_agent(
                run.browser,
                reasoner,
                task,
                on_step=on_step,
                stop=run.stop,
                file_roots=(uploads_folder(self._settings.home, run.tenant),),
                vault=vault,
                latest=self._sessions.latest_observation(run.session_id),
            )
        except asyncio.CancelledError:
            # Only this service cancels a run, after the stop grace period ran out.
            outcome = AgentOutcome(
                state=AgentState.stopped, success=False, answer="stopped; the running action was interrupted"
            )
        except Exception as exc:
            log.exception("agent %s crashed", run.agent_id)
            outcome = AgentOutcome(
                state=AgentState.failed, success=False, answer=f"the agent failed unexpectedly: {exc}"
            )
        if run.shut_down and outcome.state in (AgentState.stopped, AgentState.failed):
            outcome = AgentOutcome(
                state=AgentState.failed,
                success=False,
                answer=f"{SHUTDOWN} while the agent was running; start it again",
            )
        elif run.session_closed is not None and outcome.state in (AgentState.stopped, AgentState.failed):
            outcome = AgentOutcome(
                state=AgentState.failed, success=False, answer=f"session closed: {run.session_closed}"
            )
        if run.stopped_because is not None and outcome.state in (AgentState.stopped, AgentState.failed):
            outcome = AgentOutcome(
                state=AgentState.stopped, success=False, answer=f"stopped: {run.stopped_because}"
            )
        try:
            await writer.close()
            if writer.error is not None:
                outcome = AgentOutcome(
                    state=AgentState.failed, success=False, answer=f"could not save the steps: {writer.error}"
                )
            await self._finish(run, outcome)
        finally:
            self._runs.pop(run.agent_id, None)
            if self._by_session.get(run.session_id) == run.agent_id:
                del self._by_session[run.session_id]
            run.done.set()

    async def _finish(self, run: _Run, outcome: AgentOutcome) -> None:
        closed = run.record.model_copy(
            update={
                "state": outcome.state,
                "success": outcome.success,
                "answer": outcome.answer,
                "closed_at": utc_now(),
            }
        )
        try:
            record = await self._store.agents.finish(
                run.agent_id, outcome.state, outcome.success, outcome.answer, closed_at=closed.closed_at
            )
            if record is None:  # closed by someone else first (e.g. a restart marked it failed)
                record = await self._record(run.tenant, run.agent_id)
        except Exception:
            # Subscribers still get the end; the store is the one to blame in the log.
            log.exception("could not save the end of agent %s", run.agent_id)
            record = closed
        status = _run_of(record, list(run.events.steps))
        await run.events.finish(AgentEnded(agent=status))

    async def _end(self, run: _Run, grace_s: float) -> None:
        """Ask the run to stop; interrupt it if the current action outlasts ``grace_s``."""
        run.stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.done.wait(), grace_s)
            return
        if run.task is not None:
            run.task.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.done.wait(), CANCEL_GRACE_S)

    async def _session_closed(self, session_id: str, reason: str) -> None:
        agent_id = self._by_session.get(session_id)
        run = self._runs.get(agent_id) if agent_id is not None else None
        if run is None:
            return
        run.session_closed = reason
        await self._end(run, SESSION_CLOSE_GRACE_S)

    # ----- helpers -----------------------------------------------------------------------

    async def _record(self, tenant: str, agent_id: str) -> AgentRecord:
        record = await self._store.agents.get(tenant, agent_id)
        if record is None:
            raise _not_found(agent_id)
        return record


def _model_name(model: str) -> str:
    """The model as recorded: a ``scripted:[...]`` replay is just ``scripted`` (the column is short)."""
    return "scripted" if model.startswith(SCRIPTED_PREFIX) else model


def _run_of(record: AgentRecord, steps: list[AgentStep]) -> AgentRun:
    """The run as reported: its record (every field of the same name) with these steps."""
    fields = record.model_dump(include=set(AgentRun.model_fields))
    return AgentRun(**fields, agent_id=record.id, steps=steps)
