"""Live log streaming over the WebSocket."""

import asyncio

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()


async def monitor_agent():
    with client.Session() as session:
        agent = client.Agent(session=session)
        agent.start(task=f"Go to {SHOP} and find the contact email")

        # Stream logs as they happen
        await agent.watch_logs(log=True)

        # Get final status
        status = agent.status()
        return status


status = asyncio.run(monitor_agent())
print(f"Final: success={status.success} answer={status.answer}")
