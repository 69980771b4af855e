"""Best practice: always check success before using the answer."""

from _shop import SHOP

from lanterna import NotteClient


def process_result(result) -> None:
    print(f"Using: {result.answer}")


client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session)

    result = agent.run(task=f"Go to {SHOP} and find the contact email")

    if not result.success:
        # Don't proceed if agent failed
        raise RuntimeError(f"Critical task failed: {result.answer}")

    # Safe to proceed
    process_result(result)
