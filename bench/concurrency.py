"""Many agents at once: 10, 25 and 50 agents, each in its own session, on one server.

For each level N, N sessions are started through the API at once, then N agents (offline
reasoner, no model needed) each get the task "Go to <demo shop>/contact.html and find the contact
email"; the bench polls until every agent has ended, then releases every session. It reports the
completion rate (agents that ended with success and the right address), step times (each step's
``ended_at - started_at``: observe, decide and act), the time until the last agent finished, and
the peak memory of the server plus all its browsers, sampled every second over its process tree:
the proportional set size (PSS: each shared page split between the processes that map it, the
honest total) and the plain sum of resident sets (RSS: shared pages counted once per process, so
it overstates, but it is what most tools show).

After each level it waits for the warm pool to refill and counts Chromium processes that should
not be there: browsers beyond the warm pool, and helpers that outlived their browser. Then it
opens idle sessions to measure memory per idle session, and finally stops the server and counts
the Chromium processes still running.

    python -m bench.concurrency [--agents 10,25,50] [--idle-sessions 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field

import httpx

from bench.report import Aim, BenchConfig, BenchSection, Table, mib, ms, pct
from bench.server import BenchServer, Memory, MemorySampler
from bench.stats import median, percentile
from lanterna.demo.site import CONTACT_EMAIL, DemoSite
from lanterna.wire import AgentStatusResponse

AGENT_TIMEOUT_S = 300.0
POLL_INTERVAL_S = 0.5
MAX_STEPS = 10
SETTLE_S = 2.0
STRAY_GRACE_S = 5.0


@dataclass
class Level:
    agents: int
    started: int = 0  # sessions + agents started without error
    finished: int = 0
    succeeded: int = 0
    correct: int = 0
    step_s: list[float] = field(default_factory=list)
    steps_per_agent: list[int] = field(default_factory=list)
    start_s: float = 0.0  # starting every session and agent
    until_all_done_s: float = 0.0
    peak: Memory = field(default_factory=Memory)
    extra_browsers: int = 0
    stray_processes: int = 0
    errors: list[str] = field(default_factory=list)


async def _start_agent(client: httpx.AsyncClient, task: str) -> tuple[str, str]:
    session = await client.post("/sessions/start", json={})
    if session.status_code != 200:
        raise RuntimeError(f"POST /sessions/start answered {session.status_code}: {session.text[:200]}")
    session_id: str = session.json()["session_id"]
    agent = await client.post(
        "/agents/start",
        json={"task": task, "session_id": session_id, "reasoning_model": "offline", "max_steps": MAX_STEPS},
    )
    if agent.status_code != 200:
        await client.delete(f"/sessions/{session_id}/stop")
        agent.raise_for_status()
    return session_id, agent.json()["agent_id"]


async def _wait_closed(client: httpx.AsyncClient, agent_id: str, deadline: float) -> AgentStatusResponse:
    while True:
        response = await client.get(f"/agents/{agent_id}")
        response.raise_for_status()
        status = AgentStatusResponse.model_validate_json(response.content)
        if status.status == "closed" or time.monotonic() > deadline:
            return status
        await asyncio.sleep(POLL_INTERVAL_S)


async def run_level(server: BenchServer, client: httpx.AsyncClient, count: int, task: str) -> Level:
    level = Level(agents=count)
    async with MemorySampler(server) as sampler:
        begin = time.perf_counter()
        started = await asyncio.gather(
            *(_start_agent(client, task) for _ in range(count)), return_exceptions=True
        )
        level.start_s = time.perf_counter() - begin
        runs = [s for s in started if isinstance(s, tuple)]
        level.errors += [f"start: {type(e).__name__}: {e}" for e in started if isinstance(e, BaseException)]
        level.started = len(runs)
        deadline = time.monotonic() + AGENT_TIMEOUT_S
        statuses = await asyncio.gather(
            *(_wait_closed(client, agent_id, deadline) for _, agent_id in runs), return_exceptions=True
        )
        level.until_all_done_s = time.perf_counter() - begin
    level.peak = sampler.peak
    for status in statuses:
        if isinstance(status, BaseException):
            level.errors.append(f"status: {type(status).__name__}: {status}")
            continue
        if status.status != "closed":
            level.errors.append(f"agent {status.agent_id} still running after {AGENT_TIMEOUT_S:.0f} s")
            continue
        level.finished += 1
        level.succeeded += bool(status.success)
        level.correct += bool(status.success) and CONTACT_EMAIL in (status.answer or "")
        level.steps_per_agent.append(len(status.steps))
        level.step_s += [(s.ended_at - s.started_at).total_seconds() for s in status.steps]
        if not status.success and len(level.errors) < 5:
            level.errors.append(f"agent ended with success=false: {status.answer}")
    await asyncio.gather(*(client.delete(f"/sessions/{session_id}/stop") for session_id, _ in runs))
    # Released: only the warm pool may remain, once it has refilled.
    await server.wait_for_browsers(server.pool_size, timeout_s=120)
    await asyncio.sleep(SETTLE_S)
    level.extra_browsers = max(0, server.browser_count() - server.pool_size)
    strays = server.stray_chromium()
    if strays:  # a process killed a moment ago may still be exiting: look again after a grace period
        await asyncio.sleep(STRAY_GRACE_S)
        strays = server.stray_chromium()
    level.stray_processes = len(strays)
    level.errors += [f"left after release: {stray}" for stray in strays]
    if level.extra_browsers:
        level.errors.append(f"{level.extra_browsers} browser(s) beyond the warm pool after release")
    return level


@dataclass
class IdleMemory:
    sessions: int
    rss_per_session: float
    pss_per_session: float


async def measure_idle(server: BenchServer, client: httpx.AsyncClient, count: int) -> IdleMemory:
    """Memory added by ``count`` idle sessions (each a browser on about:blank), per session."""
    await server.wait_for_browsers(server.pool_size, timeout_s=120)
    await asyncio.sleep(SETTLE_S)
    before = server.observe_processes()
    ids = []
    for _ in range(count):
        response = await client.post("/sessions/start", json={})
        response.raise_for_status()
        ids.append(response.json()["session_id"])
    await server.wait_for_browsers(server.pool_size + count, timeout_s=180)
    await asyncio.sleep(SETTLE_S)
    after = server.observe_processes()
    await asyncio.gather(*(client.delete(f"/sessions/{session_id}/stop") for session_id in ids))
    return IdleMemory(count, (after.rss - before.rss) / count, (after.pss - before.pss) / count)


async def run(config: BenchConfig) -> BenchSection:
    """Run every agent count in ``config.agent_counts`` on one server, then measure idle memory."""
    begin = time.perf_counter()
    counts = config.agent_counts
    pool = config.concurrency_pool_size
    levels: list[Level] = []
    with DemoSite() as site:
        task = f"Go to {site.page('contact.html')} and find the contact email"
        server = BenchServer(pool_size=pool, max_browsers=max(64, max(counts) + pool + 4))
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=120) as client:
                for count in counts:
                    levels.append(await run_level(server, client, count, task))
                idle = await measure_idle(server, client, config.idle_sessions)
                await server.wait_for_browsers(pool, timeout_s=120)
        finally:
            left_after_stop = await server.stop()  # counted once the server has exited

    rows = []
    for lv in levels:
        rows.append(
            [
                str(lv.agents),
                pct(lv.correct, lv.agents),
                ms(median(lv.step_s)),
                ms(percentile(lv.step_s, 95)),
                f"{median([float(n) for n in lv.steps_per_agent]) or 0:.0f}",
                f"{lv.start_s:.1f}",
                f"{lv.until_all_done_s:.1f}",
                mib(lv.peak.pss),
                mib(lv.peak.rss),
                str(lv.extra_browsers + lv.stray_processes),
            ]
        )
    table = Table(
        caption="Agents at once, each in its own session (offline reasoner, demo shop)",
        header=[
            "agents",
            "completed (right answer)",
            "step p50 ms",
            "step p95 ms",
            "steps/agent",
            "sessions+agents started s",
            "all done s",
            "peak PSS (server + browsers)",
            "peak RSS sum",
            "Chromium processes left after release",
        ],
        rows=rows,
    )
    memory = Table(
        caption="Memory per idle session (a browser on about:blank, the warm pool excluded)",
        header=["idle sessions", "PSS per session", "RSS sum per session"],
        rows=[[str(idle.sessions), mib(idle.pss_per_session), mib(idle.rss_per_session)]],
    )
    biggest = max(levels, key=lambda lv: lv.agents)
    leftovers = sum(lv.extra_browsers + lv.stray_processes for lv in levels)
    notes = [
        f"One `lanterna serve` with LANTERNA_POOL_SIZE={pool}: the first {pool} sessions of a burst come "
        "from the warm pool, the rest launch a browser each, all on the same two cores.",
        "Memory covers the server, its Playwright driver and every Chromium process. Chromium's processes "
        "share most of their pages, so the RSS sum counts the same memory many times; PSS is the figure "
        "to plan capacity with.",
        f"Chromium processes left after the server stopped: {left_after_stop} (every session closed "
        "by the shutdown; warm browsers included).",
    ]
    errors = [e for lv in levels for e in lv.errors]
    if errors:
        distinct = list(dict.fromkeys(e.splitlines()[0][:200] for e in errors))
        shown = "; ".join(f"`{e}`" for e in distinct[:3])
        notes.append(f"{len(errors)} problem(s), of which: {shown} (server log: {server.saved_log})")
    return BenchSection(
        title="Concurrency",
        command=f"python -m bench.concurrency --agents {','.join(map(str, counts))}",
        explanation=__doc__.split("\n\n    python")[0].split("\n", 1)[1].strip(),
        tables=[table, memory],
        notes=notes,
        aims=[
            Aim(
                aim="50 agents at once, all complete",
                measured=f"{biggest.correct}/{biggest.agents} at {biggest.agents} at once",
                met=biggest.correct == biggest.agents if biggest.agents >= 50 else None,
            ),
            Aim(
                aim="0 Chromium processes left after all sessions are released",
                measured=f"{leftovers} after release, {left_after_stop} after server stop",
                met=leftovers == 0 and left_after_stop == 0,
            ),
        ],
        numbers={
            **{f"completed_{lv.agents}": lv.correct / max(1, lv.agents) for lv in levels},
            **{f"step_p50_ms_{lv.agents}": (median(lv.step_s) or 0) * 1000 for lv in levels},
            **{f"peak_pss_mib_{lv.agents}": lv.peak.pss / 2**20 for lv in levels},
            **{f"peak_rss_mib_{lv.agents}": lv.peak.rss / 2**20 for lv in levels},
            "idle_rss_mib_per_session": idle.rss_per_session / 2**20,
            "idle_pss_mib_per_session": idle.pss_per_session / 2**20,
            "chromium_left_after_release": float(leftovers),
            "chromium_left_after_stop": float(left_after_stop),
        },
        seconds=time.perf_counter() - begin,
    )


def main() -> None:
    from bench.run_all import run_one

    parser = argparse.ArgumentParser(description="Many agents at once, memory per session, leftovers.")
    parser.add_argument("--agents", default=",".join(map(str, BenchConfig().agent_counts)))
    parser.add_argument("--idle-sessions", type=int, default=BenchConfig().idle_sessions)
    parser.add_argument("--pool-size", type=int, default=BenchConfig().concurrency_pool_size)
    args = parser.parse_args()
    config = BenchConfig(
        agent_counts=[int(n) for n in args.agents.split(",")],
        idle_sessions=args.idle_sessions,
        concurrency_pool_size=args.pool_size,
    )
    run_one(run, config)


if __name__ == "__main__":
    main()
