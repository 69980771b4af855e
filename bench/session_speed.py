"""Sessions under sustained load: a fresh browser per session beside lanterna's two isolation modes.

One run measures, side by side on the same machine:

- **baseline**: what a script does without a platform — Playwright launches a fresh Chromium
  (same binary, same flags) → new page → go to a local page (``domcontentloaded``) → close;
- **lanterna, process isolation** and **lanterna, context isolation**: a real ``lanterna serve``
  (each its own, one after the other, default pool settings) and a session's whole life through
  its API: ``POST /sessions/start`` → connect → go to the same page → ``DELETE /sessions/{id}/stop``.
  *connect* is ``GET /sessions/{id}/debug`` + Playwright ``connect_over_cdp`` where the server
  relays raw CDP for the mode, and the navigation then goes over CDP; where it does not (context
  isolation, until its relay is scoped to one context) there is no connect stage and the
  navigation is ``POST /sessions/{id}/page/execute {"type": "goto"}``. The *via* column says which.

Runs follow each other back to back (each worker starts its next session as soon as one ends), at
concurrency 1 and 10: after the first few, no session finds a pool that had time to refill, so
the rate measures what the pool sustains. Then, per mode: memory per idle session (PSS summed over
the server's process tree, before and after opening idle sessions on about:blank, once the pool
has settled; the refill that replaces what they took is included) and 50 agents at once (offline
reasoner, the demo shop's contact page), all of which must end with the right answer.

    python -m bench.session_speed [--runs 40] [--baseline-runs 20] [--agents 50] [--idle-sessions 5]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field

import httpx
from playwright.async_api import Playwright, async_playwright

from bench.concurrency import _start_agent, _wait_closed
from bench.lifecycle import Runs, baseline_run, measure
from bench.report import Aim, BenchConfig, BenchSection, Table, mib, ms, pct
from bench.server import BenchServer
from bench.stats import median, percentile
from lanterna.browser import find_chromium
from lanterna.config import Settings
from lanterna.demo.site import CONTACT_EMAIL, DemoSite

RUN_TIMEOUT_S = 120.0
AGENT_TIMEOUT_S = 300.0
SETTLE_S = 3.0
MODES = ("process", "context")
STAGES = ("create", "connect", "navigate", "release")
BASELINE_STAGES = ("launch", "new page", "navigate", "close")
AIM_C1_S = 0.150
AIM_CN_S = 0.400
AIM_RATE = 3.0


@dataclass
class ModeResult:
    mode: str
    via: str = "CDP"
    sequential: Runs = field(default_factory=lambda: Runs(STAGES))
    parallel: Runs = field(default_factory=lambda: Runs(STAGES))
    idle_pss_per_session: float = 0.0
    idle_sessions: int = 0
    agents: int = 0
    agents_correct: int = 0
    agents_all_done_s: float = 0.0
    agent_errors: list[str] = field(default_factory=list)


async def lanterna_run(
    client: httpx.AsyncClient, playwright: Playwright, page_url: str, result: ModeResult
) -> dict[str, float]:
    """One session through the API; CDP when the server relays it for this mode, else the API."""
    timings = dict.fromkeys(STAGES, 0.0)
    begin = time.perf_counter()
    # Not recorded: the baseline records nothing either (a recorded session's stop also ends its
    # screencast and writes its recording's row).
    response = await client.post("/sessions/start", json={"recording": False})
    response.raise_for_status()
    session_id = response.json()["session_id"]
    timings["create"] = time.perf_counter() - begin
    try:
        start = time.perf_counter()
        debug = await client.get(f"/sessions/{session_id}/debug")
        cdp_offered = debug.status_code == 200
        browser = None
        if cdp_offered:
            try:
                browser = await playwright.chromium.connect_over_cdp(debug.json()["ws"]["cdp"])
            except Exception:  # a relay that refuses the socket: the API path below
                browser = None
        if browser is not None:
            timings["connect"] = time.perf_counter() - start
            try:
                context = browser.contexts[0] if browser.contexts else await browser.new_context()
                page = context.pages[0] if context.pages else await context.new_page()
                start = time.perf_counter()
                await page.goto(page_url, wait_until="domcontentloaded")
                timings["navigate"] = time.perf_counter() - start
            finally:
                start = time.perf_counter()
                await browser.close()  # over CDP this disconnects; the server ends the browser
                timings["release"] = time.perf_counter() - start
        else:
            result.via = "API"
            start = time.perf_counter()
            done = await client.post(
                f"/sessions/{session_id}/page/execute", json={"type": "goto", "url": page_url}
            )
            done.raise_for_status()
            if not done.json().get("success"):
                raise RuntimeError(f"goto failed: {done.text[:200]}")
            timings["navigate"] = time.perf_counter() - start
    finally:
        start = time.perf_counter()
        stopped = await client.delete(f"/sessions/{session_id}/stop")
        timings["release"] += time.perf_counter() - start
    stopped.raise_for_status()
    return timings


async def idle_pss(server: BenchServer, client: httpx.AsyncClient, count: int) -> float:
    """PSS added per idle session (bytes), the pool's refill included."""
    await asyncio.sleep(SETTLE_S)
    before = server.observe_processes()
    ids = []
    for _ in range(count):
        response = await client.post("/sessions/start", json={})
        response.raise_for_status()
        ids.append(response.json()["session_id"])
    await asyncio.sleep(SETTLE_S * 2)  # the refill replaces what they took
    after = server.observe_processes()
    await asyncio.gather(*(client.delete(f"/sessions/{session_id}/stop") for session_id in ids))
    return (after.pss - before.pss) / count


async def agents_at_once(client: httpx.AsyncClient, count: int, task: str, result: ModeResult) -> None:
    begin = time.perf_counter()
    started = await asyncio.gather(
        *(_start_agent(client, task) for _ in range(count)), return_exceptions=True
    )
    runs = [s for s in started if isinstance(s, tuple)]
    result.agent_errors += [
        f"start: {type(e).__name__}: {e}" for e in started if isinstance(e, BaseException)
    ]
    deadline = time.monotonic() + AGENT_TIMEOUT_S
    statuses = await asyncio.gather(
        *(_wait_closed(client, agent_id, deadline) for _, agent_id in runs), return_exceptions=True
    )
    result.agents_all_done_s = time.perf_counter() - begin
    result.agents = count
    for status in statuses:
        if isinstance(status, BaseException):
            result.agent_errors.append(f"status: {type(status).__name__}: {status}")
        elif status.status == "closed" and status.success and CONTACT_EMAIL in (status.answer or ""):
            result.agents_correct += 1
        else:
            result.agent_errors.append(f"agent {status.agent_id}: {status.status}, {status.answer}")
    await asyncio.gather(*(client.delete(f"/sessions/{session_id}/stop") for session_id, _ in runs))


async def measure_mode(
    mode: str, config: BenchConfig, playwright: Playwright, page_url: str, task: str
) -> ModeResult:
    result = ModeResult(mode)
    agents = config.speed_agents
    env = {"LANTERNA_ISOLATION": mode}
    async with (
        BenchServer(pool_size=Settings().pool_size, max_browsers=agents + 14, env=env, grow=True) as server,
        httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=RUN_TIMEOUT_S) as client,
    ):

        async def once() -> dict[str, float]:
            return await lanterna_run(client, playwright, page_url, result)

        await measure(once, STAGES, config.speed_warmup, 1)
        result.sequential = await measure(once, STAGES, config.speed_runs, 1)
        result.parallel = await measure(once, STAGES, config.speed_runs, config.speed_concurrency)
        result.idle_sessions = config.idle_sessions
        result.idle_pss_per_session = await idle_pss(server, client, config.idle_sessions)
        if agents:
            await agents_at_once(client, agents, task, result)
    return result


def _rate(runs: Runs) -> float:
    return len(runs.totals) / runs.wall_s if runs.wall_s else 0.0


def _row(name: str, via: str, concurrency: int, runs: Runs, baseline: Runs) -> list[str]:
    rate, base = _rate(runs), _rate(baseline)
    return [
        name,
        via,
        str(concurrency),
        ms(median(runs.totals)),
        ms(percentile(runs.totals, 95)),
        pct(len(runs.totals), runs.attempts),
        f"{rate:.1f}",
        f"{rate / base:.1f}×" if base else "–",
    ]


def _stages(caption: str, runs: Runs) -> Table:
    rows = [
        [s, ms(median(runs.durations.get(s, []))), ms(percentile(runs.durations.get(s, []), 95))]
        for s in runs.stages
    ]
    rows.append(["**total**", f"**{ms(median(runs.totals))}**", f"**{ms(percentile(runs.totals, 95))}**"])
    return Table(caption=caption, header=["stage", "median ms", "p95 ms"], rows=rows)


async def run(config: BenchConfig) -> BenchSection:
    """Baseline, then lanterna in process then context isolation, on one machine in one run."""
    begin = time.perf_counter()
    settings = Settings()
    executable = find_chromium(settings)
    concurrency = config.speed_concurrency
    with DemoSite() as site:
        page_url = site.page("index.html")
        task = f"Go to {site.page('contact.html')} and find the contact email"
        async with async_playwright() as playwright:

            async def fresh() -> dict[str, float]:
                return await baseline_run(playwright, executable, settings.chromium_arg_list, page_url)

            await measure(fresh, BASELINE_STAGES, config.baseline_warmup, 1)
            base_seq = await measure(fresh, BASELINE_STAGES, config.speed_baseline_runs, 1)
            base_par = await measure(fresh, BASELINE_STAGES, config.speed_baseline_runs, concurrency)
            results = [await measure_mode(m, config, playwright, page_url, task) for m in MODES]

    summary_rows = [
        _row("Playwright, fresh Chromium per session", "CDP", 1, base_seq, base_seq),
        _row("Playwright, fresh Chromium per session", "CDP", concurrency, base_par, base_par),
    ]
    for r in results:
        summary_rows.append(_row(f"**lanterna**, {r.mode} isolation", r.via, 1, r.sequential, base_seq))
        summary_rows.append(
            _row(f"**lanterna**, {r.mode} isolation", r.via, concurrency, r.parallel, base_par)
        )
    summary = Table(
        caption="A session's whole life, back to back: create → connect → navigate → release",
        header=["", "via", "concurrency", "median ms", "p95 ms", "success", "sessions/s", "× baseline"],
        rows=summary_rows,
    )
    memory_agents = Table(
        caption="Per isolation mode: memory per idle session, and agents at once",
        header=["mode", "PSS per idle session", "agents at once", "completed (right answer)", "all done s"],
        rows=[
            [
                r.mode,
                f"{mib(r.idle_pss_per_session)} ({r.idle_sessions} sessions)",
                str(r.agents),
                pct(r.agents_correct, r.agents),
                f"{r.agents_all_done_s:.1f}",
            ]
            for r in results
        ],
    )
    tables = [summary, memory_agents]
    for r in results:
        tables.append(_stages(f"lanterna, {r.mode} isolation, concurrency 1 (via {r.via})", r.sequential))
        tables.append(_stages(f"lanterna, {r.mode} isolation, concurrency {concurrency}", r.parallel))
    tables.append(_stages("fresh Chromium per session, concurrency 1", base_seq))
    tables.append(_stages(f"fresh Chromium per session, concurrency {concurrency}", base_par))

    notes = [
        f"{config.speed_warmup} warm-up sessions per server, then {config.speed_runs} at concurrency 1 and "
        f"{config.speed_runs} at concurrency {concurrency}; baseline {config.speed_baseline_runs} of each. "
        "Default pool settings (LANTERNA_POOL_SIZE, LANTERNA_POOL_MAX_SIZE, LANTERNA_CONTEXTS_PER_BROWSER).",
        "Lifecycle sessions start with `recording: false`, as the baseline records nothing; the idle "
        "sessions and the agents are recorded (the default).",
        "*release* is the stop call's answer: the kill (process isolation) or the context's reset and its "
        "proof (context isolation) run after it, off the caller's path.",
    ]
    for r in results:
        failures = [*r.sequential.failures, *r.parallel.failures]
        if failures:
            notes.append(f"{r.mode}: {len(failures)} failed session(s); first: `{failures[0]}`")
        if r.agent_errors:
            notes.append(
                f"{r.mode}: {len(r.agent_errors)} agent problem(s); first: `{r.agent_errors[0][:200]}`"
            )
    context = next(r for r in results if r.mode == "context")
    c1, cn = median(context.sequential.totals), median(context.parallel.totals)
    ratio1 = _rate(context.sequential) / max(_rate(base_seq), 1e-9)
    ration = _rate(context.parallel) / max(_rate(base_par), 1e-9)
    return BenchSection(
        title="Sessions under sustained load",
        command=(
            f"python -m bench.session_speed --runs {config.speed_runs} "
            f"--baseline-runs {config.speed_baseline_runs} --agents {config.speed_agents} "
            f"--idle-sessions {config.idle_sessions}"
        ),
        explanation=__doc__.split("\n\n    python")[0].split("\n", 1)[1].strip(),
        tables=tables,
        notes=notes,
        aims=[
            Aim(
                aim=f"≤ {AIM_C1_S * 1000:.0f} ms median back to back at concurrency 1 (context isolation)",
                measured=f"{ms(c1)} ms",
                met=None if c1 is None else c1 <= AIM_C1_S,
            ),
            Aim(
                aim=f"≤ {AIM_CN_S * 1000:.0f} ms median at concurrency 10 (context isolation)",
                measured=f"{ms(cn)} ms at concurrency {concurrency}",
                met=None if cn is None or concurrency != 10 else cn <= AIM_CN_S,
            ),
            Aim(
                aim=f"≥ {AIM_RATE:.0f}× the baseline's sessions/s at both",
                measured=f"{ratio1:.1f}× at 1, {ration:.1f}× at {concurrency}",
                met=ratio1 >= AIM_RATE and ration >= AIM_RATE,
            ),
            *[
                Aim(
                    aim=f"{r.agents} agents at once all complete ({r.mode} isolation)",
                    measured=f"{r.agents_correct}/{r.agents}",
                    met=r.agents_correct == r.agents if r.agents >= 50 else None,
                )
                for r in results
            ],
        ],
        numbers={
            "baseline_c1_median_ms": (median(base_seq.totals) or 0) * 1000,
            "baseline_cn_median_ms": (median(base_par.totals) or 0) * 1000,
            "baseline_c1_rate": _rate(base_seq),
            "baseline_cn_rate": _rate(base_par),
            **{f"{r.mode}_c1_median_ms": (median(r.sequential.totals) or 0) * 1000 for r in results},
            **{f"{r.mode}_cn_median_ms": (median(r.parallel.totals) or 0) * 1000 for r in results},
            **{f"{r.mode}_c1_rate": _rate(r.sequential) for r in results},
            **{f"{r.mode}_cn_rate": _rate(r.parallel) for r in results},
            **{f"{r.mode}_idle_pss_mib": r.idle_pss_per_session / 2**20 for r in results},
            **{f"{r.mode}_agents_completed": r.agents_correct / max(1, r.agents) for r in results},
        },
        seconds=time.perf_counter() - begin,
    )


def main() -> None:
    from bench.run_all import run_one

    defaults = BenchConfig()
    parser = argparse.ArgumentParser(description="Sessions under sustained load, per isolation mode.")
    parser.add_argument("--runs", type=int, default=defaults.speed_runs)
    parser.add_argument("--warmup", type=int, default=defaults.speed_warmup)
    parser.add_argument("--concurrency", type=int, default=defaults.speed_concurrency)
    parser.add_argument("--baseline-runs", type=int, default=defaults.speed_baseline_runs)
    parser.add_argument("--agents", type=int, default=defaults.speed_agents)
    parser.add_argument("--idle-sessions", type=int, default=5)
    args = parser.parse_args()
    config = BenchConfig(
        speed_runs=args.runs,
        speed_warmup=args.warmup,
        speed_concurrency=args.concurrency,
        speed_baseline_runs=args.baseline_runs,
        speed_agents=args.agents,
        idle_sessions=args.idle_sessions,
    )
    run_one(run, config)


if __name__ == "__main__":
    main()
