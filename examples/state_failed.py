"""Agent state: Failed — a task the offline reasoner cannot do ends with an honest answer."""

from lanterna import NotteClient

client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session)
    agent.start(task="Write a poem about lanterns and publish it")

    result = agent.wait()
    if not result.success:
        # Agent state: Failed
        print(f"Error: {result.answer}")
