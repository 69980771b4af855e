"""Agent state: Completed (start added: wait() needs a started agent)."""

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session)
    agent.start(task=f"Go to {SHOP} and find the contact email")

    result = agent.wait()
    if result.success:
        # Agent state: Completed
        print(result.answer)
