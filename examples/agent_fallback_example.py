"""AgentFallback: deterministic actions first; an agent takes over at the first failure.

On a product page `#add-to-cart` exists; pass a selector that does not (``--broken``) to see
the agent take over.
"""

import sys

from _shop import SHOP

from lanterna import NotteClient

client = NotteClient()
add_selector = "#add-to-cart-missing" if "--broken" in sys.argv else "#add-to-cart"

with client.Session() as session:
    session.execute(type="goto", url=f"{SHOP}/products/classic-lantern.html")
    with client.AgentFallback(session, task="Add item to cart") as agent_fb:
        # Try deterministic actions first
        session.execute(type="click", selector=add_selector)
        session.execute(type="click", selector="#checkout")
        # Agent automatically handles any failures

if agent_fb.success:
    print("Task completed (possibly with agent help)")
print(f"agent used: {agent_fb.agent_response is not None}")
