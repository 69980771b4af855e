"""``AgentFallback``: scripted actions first, an agent takes over at the first failure."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Any

from lanterna.errors import ConflictError
from lanterna.models.actions import Action, ExecutionResult
from lanterna.models.time import utc_now
from lanterna.sdk.agents import Agent, AsyncAgent
from lanterna.sdk.results import AgentResult, describe_action
from lanterna.sdk.sessions import AnySession, Session, build_action, core_of

# A ``goal:`` line first, so any reasoner (also the rule-based one) reads the user's goal apart
# from the context of the failure.
HANDOVER_TASK = (
    "goal: {task}\n"
    "context: the scripted step `{action}` failed: {error}\n"
    "instructions: continue from the current page and take only the actions the goal needs."
)


class AgentFallback:
    """Run scripted actions; if one fails, hand the goal to an agent on the same session.

    ``with client.AgentFallback(session, task="Add item to cart") as fb:`` then call
    ``session.execute(...)`` as usual (``async with`` for the ``AsyncClient``). Inside the block
    a failed action never raises: the first failure starts an agent on the session with
    ``task``, the error and the session offset; later actions in the block are skipped (they
    return a success result saying so). Leaving the block waits for the agent. An invalid
    action or an unreachable server still raises.

    ``success`` is True if every action succeeded or the agent succeeded; ``steps`` are the
    block's ``ExecutionResult``s; ``agent_response`` is the agent's result, if one ran.
    Extra keyword arguments (``max_steps``, ``reasoning_model``, ``use_vision``) go to the agent.
    """

    def __init__(self, session: AnySession, task: str, **agent_params: Any) -> None:
        self.session = session
        self._core = core_of(session)
        self.context = self._core.context
        self.task = task
        self.agent_params = agent_params
        self.steps: list[ExecutionResult] = []
        self.success = True
        self.agent_response: AgentResult | None = None
        self.session_offset: int | None = None
        self._agent: AsyncAgent | None = None
        self._failure: ExecutionResult | None = None
        self._lock = asyncio.Lock()

    @property
    def agent(self) -> Agent | AsyncAgent | None:
        """The agent that took over (of the session's flavour), or None."""
        if self._agent is None or not isinstance(self.session, Session):
            return self._agent
        return Agent.of(self._agent)

    @property
    def agent_invoked(self) -> bool:
        return self._agent is not None

    async def _enter(self) -> AgentFallback:
        if self._core.interceptor is not None:
            raise ConflictError("an AgentFallback is already active on this session")
        self.session_offset = await self._core.offset()
        self._core.interceptor = self
        return self

    async def intercept(
        self, action: Action | dict[str, Any] | None, fields: dict[str, Any]
    ) -> ExecutionResult:
        """``session.execute`` inside the block: never raises for a failed action."""
        parsed = build_action(action, fields)
        async with self._lock:
            if self._failure is not None:
                now = utc_now()
                failed = describe_action(self._failure.action)
                return ExecutionResult(
                    action=parsed,
                    success=True,
                    message=f"skipped: an agent took over after {failed} failed",
                    started_at=now,
                    ended_at=now,
                )
            result = await self._core.send_action(parsed)
            self.steps.append(result)
            if not result.success:
                self.success = False
                self._failure = result
                await self._hand_over(result)
            return result

    async def _hand_over(self, failure: ExecutionResult) -> None:
        self._agent = AsyncAgent(self.context, self._core, **self.agent_params)
        task = HANDOVER_TASK.format(
            task=self.task, action=describe_action(failure.action), error=failure.message
        )
        await self._agent.start(task, session_offset=self.session_offset)

    async def _exit(self, failed: bool) -> None:
        self._core.interceptor = None
        agent = self._agent
        if agent is None:
            return
        if failed:  # the block itself broke: do not leave the agent running
            with contextlib.suppress(Exception):
                await agent.stop()
            return
        self.agent_response = await agent.finish()
        self.success = bool(self.agent_response.success)

    def __enter__(self) -> AgentFallback:
        return self.context.block(self._enter())

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.context.block(self._exit(failed=exc is not None))

    async def __aenter__(self) -> AgentFallback:
        return await self.context.run(self._enter())

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.context.run(self._exit(failed=exc is not None))
