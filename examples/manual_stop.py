"""Manual stop: the current action finishes, then the agent stops."""

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session, max_steps=30)
    agent.start(task=f"Go to {SHOP} and find the VAT number")

    # Do something...

    # Stop the agent
    status = agent.stop()
    print(f"status={status.status} state={status.state} steps={len(status.steps)}")
