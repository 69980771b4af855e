"""Multiple independent agents in parallel.

Each `arun()` is created inside its `with client.Session()` block but awaited after it: the SDK
keeps such a session open until its run has ended, so the guide's snippet works as written.
"""

import asyncio

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

    for task_description in TASKS:
        with client.Session() as session:
            agent = client.Agent(session=session)
            tasks.append(agent.arun(task=task_description))

    # Run all agents in parallel
    results = await asyncio.gather(*tasks)
    return results


results = asyncio.run(run_multiple_agents())
for i, result in enumerate(results):
    print(f"Agent {i + 1}: {result.answer}")
