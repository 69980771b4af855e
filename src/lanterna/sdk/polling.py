"""Waiting for an agent by polling its status, with a growing interval and a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from lanterna.sdk.results import AgentStatus

POLL_FIRST_S, POLL_MAX_S = 0.2, 2.0


async def poll_until_done(
    fetch: Callable[[], Awaitable[AgentStatus]],
    timeout_s: float,
    on_status: Callable[[AgentStatus], None] | None = None,
) -> AgentStatus:
    """Call ``fetch`` until the status it returns is done; ``TimeoutError`` after ``timeout_s``.

    ``on_status`` sees every status fetched (to show new steps). The first poll comes after
    ``POLL_FIRST_S`` and the interval grows to ``POLL_MAX_S``, so a long run costs few requests.
    Cancelling the caller cancels the wait only (the agent keeps running).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    delay = POLL_FIRST_S
    while True:
        status = await fetch()
        if on_status is not None:
            on_status(status)
        if status.done:
            return status
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(
                f"agent {status.agent_id} still running after {timeout_s:.0f}s; "
                "call agent.stop() or wait again with a longer timeout"
            )
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 1.5, POLL_MAX_S)
