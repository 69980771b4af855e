"""Run (blocking): start an agent and wait for its result."""

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session, max_steps=10)

    result = agent.run(task=f"Go to {SHOP} and find the contact email")

    if result.success:
        print(result.answer)
    else:
        print(f"Failed: {result.answer}")
