"""Best practice: pick the execution mode.

lanterna runs one agent per session at a time; the SDK lets agents that share a `Session` take
turns, so the two "concurrent" agents below run one after the other on the same browser.
"""

import asyncio

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()


async def main():
    with client.Session() as session:
        agent = client.Agent(session=session)

        # Simple tasks: Use run()
        result = agent.run(task=f"Go to {SHOP} and find the contact email")
        print(result.answer)

        # Multiple agents: Use async
        agent1 = client.Agent(session=session)
        agent2 = client.Agent(session=session)
        results = await asyncio.gather(
            agent1.arun(task=f"Go to {SHOP}/contact.html and find the phone number"),
            agent2.arun(task=f"Go to {SHOP}/about.html and find the heading"),
        )
        print([r.answer for r in results])

        # Long tasks with monitoring: Use start() + polling
        agent.start(task=f"Go to {SHOP} and find the contact email")
        done = False
        while not done:
            status = agent.status()
            # Update UI, log progress, etc.
            done = status.status == "closed"
            await asyncio.sleep(0.2)
        print(status.answer)


asyncio.run(main())
