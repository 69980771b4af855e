"""Agent state: Running (the guide's snippet omits creating the agent; added here)."""

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session)
    agent.start(task=f"Go to {SHOP} and find the contact email")
    # Agent state: Running
    status = agent.status()
    print(f"status={status.status} state={status.state}")
    stopped = agent.stop()
    print(f"after stop: status={stopped.status} success={stopped.success}")
