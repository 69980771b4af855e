"""Agent step overhead: what a step costs beyond its action (observe + reason + persist + broadcast).

Runs the real agent loop with the scripted reasoner (which decides instantly) on the bundled demo
shop, persisting every step to a real SQLite store and fanning it out to one live subscriber,
exactly as the server does. Per step it reports the time spent outside the action itself.

    .venv/bin/python bench/step_overhead.py [--steps 60]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from lanterna.agent.loop import AgentTask, run_agent
from lanterna.agent.models import AgentStep
from lanterna.browser import BrowserPool
from lanterna.config import Settings
from lanterna.demo.site import DemoSite
from lanterna.reasoners.base import Decision, ReasonerInput
from lanterna.reasoners.scripted import ScriptedReasoner
from lanterna.runs.events import AgentEvents
from lanterna.store import AgentRecord, SessionRecord, Store
from lanterna.store.tables import utcnow


class TimedScript(ScriptedReasoner):
    """The scripted reasoner, noting when each decision is handed back (the action starts right after)."""

    def __init__(self, actions: list[dict[str, Any]]) -> None:
        super().__init__(actions)
        self.decided_at: list[float] = []
        self.observe_s: list[float] = []

    async def decide(self, input: ReasonerInput) -> Decision:
        decision = await super().decide(input)
        obs = input.observation
        self.observe_s.append((obs.ended_at - obs.started_at).total_seconds())
        self.decided_at.append(time.perf_counter())
        return decision


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(steps: int) -> None:
    # Alternate between two pages by selector so the page changes each step (no repetition stop).
    script = [
        {"type": "click", "selector": f"nav a[href='/{page}.html']"}
        for _, page in zip(range(steps), ["products", "contact"] * steps, strict=False)
    ]
    with tempfile.TemporaryDirectory() as home, DemoSite() as site:
        settings = Settings(home=Path(home), pool_size=1)
        store = await Store.open(f"sqlite+aiosqlite:///{home}/bench.db")
        pool = BrowserPool(settings, size=1)
        await pool.start()
        session = await pool.acquire()
        try:
            now = utcnow()
            await store.sessions.create(
                SessionRecord(id=session.id, tenant="bench", created_at=now, last_accessed_at=now)
            )
            agent_id = str(uuid.uuid4())
            await store.agents.create(
                AgentRecord(
                    id=agent_id,
                    tenant="bench",
                    session_id=session.id,
                    task="bench",
                    max_steps=steps + 2,
                    created_at=now,
                )
            )
            events = AgentEvents()
            received: list[AgentStep] = []

            async def subscriber() -> None:
                async for event in events.subscribe():
                    if isinstance(event, AgentStep):
                        received.append(event)

            listener = asyncio.create_task(subscriber())
            reasoner = TimedScript(script)
            on_step_s: list[float] = []
            step_end: list[float] = []
            action_s: list[float] = []

            async def on_step(step: AgentStep) -> None:
                entered = time.perf_counter()
                if step.action.type != "completion" and reasoner.decided_at:  # not the start URL
                    action_s.append(entered - reasoner.decided_at[-1])
                await store.agents.add_step(agent_id, step)
                await events.publish(step)
                on_step_s.append(time.perf_counter() - entered)
                step_end.append(time.perf_counter())

            begin = time.perf_counter()
            task = AgentTask(task="bench", url=site.page("index.html"), max_steps=steps + 2)
            outcome = await run_agent(session, reasoner, task, on_step=on_step, stop=asyncio.Event())
            listener.cancel()
            assert outcome.success, outcome.answer
            assert len(received) == len(step_end), "the subscriber missed steps"

            # Step i (the scripted clicks; step 0 is the start URL): from the end of the previous
            # step to the end of this one, minus the action itself.
            totals = [step_end[i] - (step_end[i - 1] if i else begin) for i in range(len(step_end))]
            overhead = [totals[i + 1] - action_s[i] for i in range(len(action_s))]
            print(
                f"steps measured        {len(overhead)} (demo shop, scripted reasoner, SQLite, 1 subscriber)"
            )
            print(f"action (click+nav)    median {statistics.median(action_s) * 1000:7.1f} ms")
            print(
                f"overhead per step     median {statistics.median(overhead) * 1000:7.1f} ms   "
                f"p95 {_percentile(overhead, 0.95) * 1000:7.1f} ms"
            )
            print(
                f"  observe             median {statistics.median(reasoner.observe_s) * 1000:7.1f} ms   "
                f"p95 {_percentile(reasoner.observe_s, 0.95) * 1000:7.1f} ms"
            )
            print(
                f"  persist + broadcast median {statistics.median(on_step_s) * 1000:7.1f} ms   "
                f"p95 {_percentile(on_step_s, 0.95) * 1000:7.1f} ms"
            )
        finally:
            await pool.release(session)
            await pool.close()
            await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="scripted steps to time (default 60)")
    asyncio.run(main(parser.parse_args().steps))
