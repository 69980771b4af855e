"""Timeout pattern: bound a run with asyncio.wait_for and stop the agent on timeout."""

import asyncio
import os

from _shop import SHOP

from lanterna import NotteClient

TIMEOUT_SECONDS = float(os.environ.get("EXAMPLE_TIMEOUT_SECONDS", "60"))


async def run_with_timeout(agent, timeout_seconds=60):
    try:
        result = await asyncio.wait_for(
            agent.arun(task=f"Go to {SHOP} and find the VAT number"), timeout=timeout_seconds
        )
        return result
    except asyncio.TimeoutError:  # noqa: UP041 (as in the guide)
        agent.stop()
        raise TimeoutError(f"Agent exceeded {timeout_seconds}s timeout") from None


client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session, max_steps=50)
    # Run with a timeout (60 s in the guide; shorter here when EXAMPLE_TIMEOUT_SECONDS is set)
    try:
        result = asyncio.run(run_with_timeout(agent, timeout_seconds=TIMEOUT_SECONDS))
        print(f"Finished in time: {result.answer}")
    except TimeoutError as exc:
        print(exc)
        print(f"Agent state after stop: {agent.status().state}")
