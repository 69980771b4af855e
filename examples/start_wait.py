"""Start + wait: start the agent, do other work, then wait for the result."""

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session)

    # Start agent (returns immediately)
    agent.start(task=f"Go to {SHOP}/products/classic-lantern.html and add the item to the cart")

    # Do other work here...

    # Wait for completion
    result = agent.wait()
    print(f"success={result.success} answer={result.answer}")
