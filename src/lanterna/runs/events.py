"""Per-agent event fan-out: every subscriber sees all steps so far, new steps as they happen, then the end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from lanterna.models.agent import AgentEnded, AgentStep


class AgentEvents:
    """The step log of one running agent. Subscribers may join at any time, also after the end."""

    def __init__(self) -> None:
        self.steps: list[AgentStep] = []
        self.stop_message: AgentEnded | None = None
        self._changed = asyncio.Condition()

    async def publish(self, step: AgentStep) -> None:
        async with self._changed:
            self.steps.append(step)
            self._changed.notify_all()

    async def finish(self, message: AgentEnded) -> None:
        async with self._changed:
            self.stop_message = message
            self._changed.notify_all()

    async def subscribe(self) -> AsyncIterator[AgentStep | AgentEnded]:
        """Past steps, then live ones, then the end; ends after the end."""
        sent = 0
        while True:
            async with self._changed:
                while len(self.steps) <= sent and self.stop_message is None:
                    await self._changed.wait()
                pending = self.steps[sent:]
                final = self.stop_message
            for step in pending:
                yield step
            sent += len(pending)
            if final is not None and sent == len(self.steps):
                yield final
                return
