"""Async execution with await agent.arun(...)."""

import asyncio

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()


async def run_agent_task():
    with client.Session() as session:
        agent = client.Agent(session=session)
        result = await agent.arun(task=f"Go to {SHOP}/products.html and extract data from the page")
        return result


# Run async
result = asyncio.run(run_agent_task())
print(result.answer)
