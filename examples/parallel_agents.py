"""Multiple independent agents in parallel.

The guide's snippet leaves each `with client.Session()` block before the agents run, which would
close every session first; here each session stays open until all agents have finished.
"""

import asyncio
from contextlib import ExitStack

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

TASKS = [
    f"Go to {SHOP} and find the contact email",
    f"Go to {SHOP}/contact.html and find the phone number",
    f"Go to {SHOP}/products.html and extract data from the page",
]


async def run_multiple_agents():
    tasks = []
    with ExitStack() as stack:
        for task_description in TASKS:
            session = stack.enter_context(client.Session())
            agent = client.Agent(session=session)
            tasks.append(agent.arun(task=task_description))

        # Run all agents in parallel
        results = await asyncio.gather(*tasks)
    return results


results = asyncio.run(run_multiple_agents())
for i, result in enumerate(results):
    print(f"Agent {i + 1}: {result.answer}")
