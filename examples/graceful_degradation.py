"""Graceful degradation: branch on success, fall back on failure."""

import logging

from lanterna import NotteClient

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger("example")


def process_data(answer: str) -> None:
    print(f"Processing: {answer}")


def fallback_approach() -> None:
    print("Falling back to a manual review queue")


client = NotteClient()

with client.Session() as session:
    agent = client.Agent(session=session)
    result = agent.run(task="Complete task")

    if result.success:
        # Process successful result
        process_data(result.answer)
    else:
        # Handle failure
        logger.error(f"Agent failed: {result.answer}")

        # Fallback strategy
        fallback_approach()
