"""Best practice: match max_steps to the task."""

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

with client.Session() as session:
    # Match max_steps to expected complexity
    agent = client.Agent(
        session=session,
        max_steps=10,  # For tasks requiring 5-8 steps
    )
    result = agent.run(task=f"Go to {SHOP} and find the contact email")
    print(f"{len(result.steps)} steps: {result.answer}")
