"""Status checking: read the agent's progress at any time."""

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session)
    agent.start(task=f"Go to {SHOP} and find the contact email")

    # Check status
    status = agent.status()

    print(f"Agent ID: {status.agent_id}")
    print(f"Current state: {status.status}")
    print(f"Steps completed: {len(status.steps)}")
    print(f"Success: {status.success}")
    result = agent.wait()
    print(f"Final: success={result.success} answer={result.answer}")
