"""The agent loop: observe the page, ask the reasoner for one action, execute it, repeat.

Each step is recorded as an ``AgentStep`` and handed to ``on_step`` as soon as it ends. The
loop ends on ``completion``, on ``max_steps``, after ``MAX_CONSECUTIVE_FAILURES`` failed actions
in a row, when the same action is chosen ``MAX_REPEATS`` times on an unchanged page, when
``stop`` is set (the running action finishes first), or when the browser session dies.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import BaseModel, Field

from lanterna.actions.execute import execute
from lanterna.agent.vault_guard import VaultGuard
from lanterna.browser.session import BrowserSession
from lanterna.models.actions import Action, Completion, ExecutionResult, Goto
from lanterna.models.agent import AgentOutcome, AgentState, AgentStep, ReasonerState
from lanterna.models.observation import Observation
from lanterna.models.time import utc_now
from lanterna.models.vault import AgentVault
from lanterna.perception.latest import LatestObservation
from lanterna.perception.observe import observe
from lanterna.reasoners.base import Decision, Reasoner, ReasonerInput
from lanterna.scrape.markdown import scrape_page

MAX_CONSECUTIVE_FAILURES = 3
MAX_REPEATS = 3


class AgentTask(BaseModel):
    """What an agent run is asked to do."""

    task: str = Field(min_length=1)
    url: str | None = None
    max_steps: int = Field(default=20, ge=1)
    response_format: dict[str, Any] | None = None
    use_vision: bool = False


class _Finished(Exception):
    """Raised inside the loop to end the run with ``outcome``."""

    def __init__(self, outcome: AgentOutcome) -> None:
        super().__init__(outcome.answer)
        self.outcome = outcome


def _failed(answer: str) -> _Finished:
    return _Finished(AgentOutcome(state=AgentState.failed, success=False, answer=answer))


def answer_problem(answer: str, schema: dict[str, Any]) -> str | None:
    """Why ``answer`` is not a JSON document valid against ``schema``, or None if it is."""
    try:
        document = json.loads(answer)
    except json.JSONDecodeError as exc:
        return f"the answer is not JSON ({exc.msg}); answer with a JSON document matching response_format"
    validator_class = jsonschema.validators.validator_for(schema)
    error = jsonschema.exceptions.best_match(validator_class(schema).iter_errors(document))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the document"
    return f"the answer does not match response_format at {where}: {error.message}"


def schema_problem(schema: dict[str, Any]) -> str | None:
    """Why ``schema`` is not a usable JSON schema, or None."""
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        return f"response_format is not a valid JSON schema: {exc.message}"
    return None


def _page_key(observation: Observation) -> str:
    meta = observation.metadata
    digest = hashlib.blake2b(observation.text.encode(), digest_size=12).hexdigest()
    return f"{meta.url}|{meta.viewport.scroll_y}|{digest}"


def _action_key(action: Action) -> str:
    return json.dumps(action.wire(), sort_keys=True)


class _Run:
    """The mutable state of one run."""

    def __init__(
        self,
        session: BrowserSession,
        reasoner: Reasoner,
        task: AgentTask,
        on_step: Callable[[AgentStep], Awaitable[None]],
        stop: asyncio.Event,
        file_roots: tuple[Path, ...] = (),
        vault: AgentVault | None = None,
        latest: LatestObservation | None = None,
    ) -> None:
        self.session = session
        self.latest = latest if latest is not None else LatestObservation()
        self.guard = VaultGuard(vault) if vault is not None else None
        self.file_roots = file_roots
        self.reasoner = reasoner
        self.task = task
        self.on_step = on_step
        self.stop = stop
        self.steps: list[AgentStep] = []
        self.failures_in_a_row = 0
        self.last_error = ""
        self.repeat_key = ""
        self.repeats = 0
        self.feedback: str | None = None

    def check_session(self) -> None:
        if self.session.closed:
            raise _failed(f"session closed: {self.session.closed_reason or 'the browser is gone'}")

    def check_stop(self) -> None:
        if self.stop.is_set():
            raise _Finished(
                AgentOutcome(
                    state=AgentState.stopped,
                    success=False,
                    answer=f"stopped by request after {len(self.steps)} steps",
                )
            )

    async def record(self, state: ReasonerState, result: ExecutionResult, started_at: datetime) -> None:
        step = AgentStep(
            state=state,
            action=result.action,
            success=result.success,
            message=result.message,
            data=result.data,
            started_at=started_at,
            ended_at=result.ended_at,
        )
        self.steps.append(step)
        await self.on_step(step)
        if result.success:
            self.failures_in_a_row = 0
        else:
            self.failures_in_a_row += 1
            self.last_error = result.message

    async def act(self, action: Action) -> ExecutionResult:
        started = utc_now()
        try:
            async with self.session.lock:
                runs = self.guard.reveal(action, self.session.page.url) if self.guard else action
                result = await execute(
                    self.session, runs, file_roots=self.file_roots, scraper=scrape_page, observed=self.latest
                )
                if self.guard is not None:  # the step keeps the placeholders, never the secrets
                    result = self.guard.redact(result.model_copy(update={"action": action}))
        except Exception as exc:  # execute reports ordinary failures itself; this is a broken browser
            self.check_session()
            result = ExecutionResult(
                action=action,
                success=False,
                message=f"the action could not run: {exc}",
                started_at=started,
                ended_at=utc_now(),
            )
        self.session.touch()
        return result

    async def look(self) -> Observation:
        self.check_session()
        for attempt in range(2):
            try:
                async with self.session.lock:
                    observation = await observe(
                        self.session, screenshot=self.task.use_vision, latest=self.latest
                    )
                return self.guard.redact(observation) if self.guard else observation
            except Exception as exc:
                self.check_session()
                if attempt == 1:
                    raise _failed(f"could not read the page: {exc}") from exc
                await asyncio.sleep(0.2)  # a page mid-navigation can refuse one snapshot
        raise AssertionError("unreachable")  # pragma: no cover

    async def reason(self, input: ReasonerInput) -> Decision:
        """The reasoner's decision; a stop request does not wait for a slow model."""
        decide = asyncio.ensure_future(self.reasoner.decide(input))
        stopped = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({decide, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not decide.done():
                decide.cancel()
        if not decide.done() or decide.cancelled():  # a task cancelled just now is not done yet
            self.check_stop()
        try:
            return decide.result()
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            raise _failed(f"the reasoner failed: {message}") from exc

    async def complete(self, state: ReasonerState, action: Completion, started_at: datetime) -> None:
        if self.guard is not None:
            action = self.guard.redact(action)
        if action.success and self.task.response_format is not None:
            problem = answer_problem(action.answer, self.task.response_format)
            if problem is not None:
                self.feedback = problem
                await self.record(
                    state,
                    ExecutionResult(
                        action=action,
                        success=False,
                        message=problem,
                        started_at=started_at,
                        ended_at=utc_now(),
                    ),
                    started_at,
                )
                self.check_failures()
                return
        message = "task completed" if action.success else "the agent reported that the task failed"
        await self.record(
            state,
            ExecutionResult(
                action=action, success=True, message=message, started_at=started_at, ended_at=utc_now()
            ),
            started_at,
        )
        state_value = AgentState.completed if action.success else AgentState.failed
        raise _Finished(AgentOutcome(state=state_value, success=action.success, answer=action.answer))

    def check_failures(self) -> None:
        if self.failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
            raise _failed(
                f"{MAX_CONSECUTIVE_FAILURES} actions failed in a row; last error: {self.last_error}"
            )

    def check_repetition(self, action: Action, observation: Observation) -> None:
        key = f"{_page_key(observation)}#{_action_key(action)}"
        self.repeats = self.repeats + 1 if key == self.repeat_key else 1
        self.repeat_key = key
        if self.repeats >= MAX_REPEATS:
            raise _failed(
                f"the agent chose the same action ({action.type}) {MAX_REPEATS} times on an unchanged page; "
                "it is stuck"
            )

    async def open_start_url(self, url: str) -> None:
        started = utc_now()
        result = await self.act(Goto(url=url))
        state = ReasonerState(previous_goal_status="unknown", next_goal=f"open {url}")
        await self.record(state, result, started)

    async def step(self, number: int) -> None:
        started = utc_now()
        observation = await self.look()
        decision = await self.reason(
            ReasonerInput(
                task=self.task.task,
                url=self.task.url,
                step=number,
                max_steps=self.task.max_steps,
                history=list(self.steps),
                observation=observation,
                response_format=self.task.response_format,
                feedback=self.feedback,
                use_vision=self.task.use_vision,
                vault_placeholders=self.guard.placeholders(observation.metadata.url) if self.guard else {},
            )
        )
        self.feedback = None
        self.check_stop()
        if isinstance(decision.action, Completion):
            await self.complete(decision.state, decision.action, started)
            return
        result = await self.act(decision.action)
        await self.record(decision.state, result, started)
        self.check_session()
        self.check_failures()
        self.check_repetition(decision.action, observation)

    async def run(self) -> AgentOutcome:
        try:
            if self.task.response_format is not None:
                problem = schema_problem(self.task.response_format)
                if problem:
                    raise _failed(problem)
            number = 1
            if self.task.url:
                self.check_stop()
                self.check_session()
                await self.open_start_url(self.task.url)
                self.check_session()
                number = 2
            while number <= self.task.max_steps:
                self.check_stop()
                await self.step(number)
                number += 1
            self.check_stop()
        except _Finished as finished:
            return finished.outcome
        return AgentOutcome(
            state=AgentState.max_steps,
            success=False,
            answer=f"reached the step limit (max_steps={self.task.max_steps}) before finishing the task",
        )


async def run_agent(
    session: BrowserSession,
    reasoner: Reasoner,
    task: AgentTask,
    *,
    on_step: Callable[[AgentStep], Awaitable[None]],
    stop: asyncio.Event,
    file_roots: Sequence[Path] = (),
    vault: AgentVault | None = None,
    latest: LatestObservation | None = None,
) -> AgentOutcome:
    """Run ``task`` in ``session`` until it ends; every step goes to ``on_step`` as it happens.

    Never raises for a failed run: reasoner errors, a dead session and exhausted limits all end
    in an ``AgentOutcome`` with ``success=False`` and an answer that says why. ``upload_file``
    takes files only from ``file_roots`` and the session's downloads folder. With ``vault``, the
    reasoner sees placeholders only and no secret reaches a step or the answer (``vault_guard``).
    ``latest`` is the session's latest observation, shared with its other callers (a new one if
    left out).
    """
    return await _Run(session, reasoner, task, on_step, stop, tuple(file_roots), vault, latest).run()
