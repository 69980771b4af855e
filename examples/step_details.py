"""Step details: every step's action, success and message (the agent is created here too)."""

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session)
    result = agent.run(task=f"Go to {SHOP} and find the contact email")

    for i, step in enumerate(result.steps):
        print(f"Step {i + 1}:")
        print(f"  Action: {step.action}")
        print(f"  Success: {step.success}")
        print(f"  Message: {step.message}")
