"""Stopped (max steps): a search for something the site does not have runs out of steps."""

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session, max_steps=5)
    result = agent.run(task=f"Go to {SHOP} and find the VAT number")

    if len(result.steps) >= 5:
        # Agent hit max_steps limit
        print("Agent stopped: maximum steps reached")
    print(result.answer)
