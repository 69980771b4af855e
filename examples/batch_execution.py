"""Batch execution: three agents, each in its own session, first success wins."""

import asyncio

from _shop import SHOP

from lanterna import NotteClient
from lanterna.sdk.agents import BatchRemoteAgent

client = NotteClient()


async def main():
    with client.Session() as session:
        batch_agent = BatchRemoteAgent(session=session, max_steps=10, _client=client)

        # Run 3 agents in parallel, return first success
        result = await batch_agent.run(
            task=f"Go to {SHOP} and find the contact email", n_jobs=3, strategy="first_success"
        )
        print(f"success={result.success} answer={result.answer}")


asyncio.run(main())
