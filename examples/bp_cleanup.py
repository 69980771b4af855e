"""Best practice: context managers close the session, also on errors."""

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

# Use context managers for automatic cleanup
with client.Session() as session:
    agent = client.Agent(session=session)
    result = agent.run(task=f"Go to {SHOP} and find the contact email")
# Session automatically closed
print(f"session {session.session_id}: {session.status().status}")
