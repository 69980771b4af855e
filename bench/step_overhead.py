"""Agent step overhead: what a step costs beyond its action (observe + persist + broadcast).

An agent runs through the server's own path (``Runtime`` → ``AgentService`` → agent loop) on the
bundled demo shop, with the scripted reasoner, which decides instantly, so what remains is the
platform: observing the page, recording the step and delivering it to a live subscriber (as the
log WebSocket does); the step's SQLite write is queued and runs alongside the next step. The
script alternates clicks between two pages, so every step is a real click and navigation.
Per step: *overhead* = time from the previous step's delivery to this step's delivery, minus the
action (decision handed back → action finished); *observe* is the observation's own duration;
*record + deliver* runs from the action's end to the subscriber receiving the step.

    python -m bench.step_overhead [--steps 60]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import Aim, BenchConfig, BenchSection, Table, ms
from bench.stats import median, percentile
from lanterna.config import Settings
from lanterna.demo.site import DemoSite
from lanterna.models.agent import AgentEnded, AgentRequest, AgentStep
from lanterna.models.sessions import SessionRequest
from lanterna.reasoners.base import Decision, ReasonerInput
from lanterna.reasoners.scripted import ScriptedReasoner
from lanterna.runs.runtime import Runtime

AIM_MEDIAN_S = 0.100
RUN_TIMEOUT_S = 300.0


class TimedScript(ScriptedReasoner):
    """The scripted reasoner, noting how long each observation took and when each decision left."""

    def __init__(self, actions: list[dict[str, Any]]) -> None:
        super().__init__(actions)
        self.decided_at: list[float] = []
        self.observe_s: list[float] = []

    async def decide(self, input: ReasonerInput) -> Decision:
        decision = await super().decide(input)
        obs = input.observation
        self.observe_s.append((obs.ended_at - obs.started_at).total_seconds())
        self.decided_at.append(time.time())
        return decision


def _clicks(steps: int) -> list[dict[str, Any]]:
    pages = ["Products", "Contact"]
    return [{"type": "click", "selector": f"nav >> text={pages[n % 2]}"} for n in range(steps)]


async def measure(steps: int) -> dict[str, list[float]]:
    """Run one agent of ``steps`` clicks; per-step durations in seconds."""
    with tempfile.TemporaryDirectory() as home, DemoSite() as site:
        runtime = await Runtime.start(Settings(home=Path(home), pool_size=1, model="offline"))
        try:
            key, _ = await runtime.store.keys.create("bench")
            tenant = key.key_id
            session = await runtime.sessions.start(tenant, SessionRequest())
            reasoner = TimedScript(_clicks(steps))
            request = AgentRequest(
                task="click between two pages",
                session_id=session.session_id,
                url=site.url,
                max_steps=steps + 2,
            )
            agent = await runtime.agents.start(tenant, request, reasoner=reasoner)
            received: list[tuple[float, AgentStep]] = []
            final: AgentEnded | None = None
            async for event in runtime.agents.subscribe(tenant, agent.agent_id):
                if isinstance(event, AgentEnded):
                    final = event
                else:
                    received.append((time.time(), event))
            assert final is not None and final.agent.success, final and final.agent.answer
            await runtime.sessions.stop(tenant, session.session_id)
        finally:
            await runtime.close()

    # received[0] is the start URL; received[1..steps] the clicks (decisions 0..steps-1); then completion.
    action, overhead, persist = [], [], []
    for n in range(1, steps + 1):
        at, step = received[n]
        ended = step.ended_at.timestamp()
        action.append(ended - reasoner.decided_at[n - 1])
        overhead.append((at - received[n - 1][0]) - action[-1])
        persist.append(at - ended)
    return {"action": action, "overhead": overhead, "observe": reasoner.observe_s[:steps], "persist": persist}


async def run(config: BenchConfig) -> BenchSection:
    begin = time.perf_counter()
    steps = config.step_overhead_steps
    samples = await asyncio.wait_for(measure(steps), RUN_TIMEOUT_S)
    overhead = samples["overhead"]
    rows = [
        [
            "**overhead per step** (everything but the action)",
            ms(median(overhead)),
            ms(percentile(overhead, 95)),
        ],
        ["  observe (accessibility snapshot → elements + text)", *_cells(samples["observe"])],
        ["  record + deliver to a subscriber (the SQLite write runs alongside)", *_cells(samples["persist"])],
        ["the action itself (click + navigation), for scale", *_cells(samples["action"])],
    ]
    overhead_median = median(overhead)
    return BenchSection(
        title="Agent step overhead",
        command=f"python -m bench.step_overhead --steps {steps}",
        explanation=(__doc__ or "").split("\n\n    python")[0].split("\n", 1)[1].strip(),
        tables=[Table(caption=f"{steps} steps, one agent", header=["", "median ms", "p95 ms"], rows=rows)],
        notes=[
            "The parts are measured independently, so their medians need not add up to the total's; "
            "what is left (the scripted reasoner's call, the loop's checks) is well under a millisecond.",
            "With an LLM, the reasoner call adds the model's own latency; the platform's share is as above.",
        ],
        aims=[
            Aim(
                aim=f"≤ {AIM_MEDIAN_S * 1000:.0f} ms median overhead per step",
                measured=f"{ms(overhead_median)} ms",
                met=None if overhead_median is None else overhead_median <= AIM_MEDIAN_S,
            )
        ],
        numbers={
            "overhead_median_ms": (overhead_median or 0) * 1000,
            "overhead_p95_ms": (percentile(overhead, 95) or 0) * 1000,
            "observe_median_ms": (median(samples["observe"]) or 0) * 1000,
            "persist_median_ms": (median(samples["persist"]) or 0) * 1000,
            "action_median_ms": (median(samples["action"]) or 0) * 1000,
        },
        seconds=time.perf_counter() - begin,
    )


def _cells(values: list[float]) -> list[str]:
    return [ms(median(values)), ms(percentile(values, 95))]


def main() -> None:
    from bench.report import section_markdown

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=BenchConfig().step_overhead_steps, help="steps to time")
    args = parser.parse_args()
    section = asyncio.run(run(BenchConfig(step_overhead_steps=args.steps)))
    print(section_markdown(section))


if __name__ == "__main__":
    main()
