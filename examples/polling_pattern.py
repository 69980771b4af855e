"""Polling pattern: check the status periodically until the agent is closed."""

import time

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session)
    agent.start(task=f"Go to {SHOP} and find the contact email")

    deadline = time.monotonic() + 120  # bounded, unlike the guide's `while True`
    while time.monotonic() < deadline:
        status = agent.status()

        if status.status == "closed":
            break

        print(f"Progress: {len(status.steps)} steps completed")
        time.sleep(0.5)

    print(f"Final result: {status.answer}")
