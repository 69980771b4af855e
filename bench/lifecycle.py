"""Session lifecycle, BrowserArena's method, lanterna beside a fresh Chromium per session.

lanterna: create a session through the API (``POST /sessions/start``) → connect Playwright over
the session's CDP URL (``GET /sessions/{id}/debug`` → ``ws.cdp``, ``connect_over_cdp``) → go to a
local page, waiting for ``domcontentloaded`` → release through the API
(``DELETE /sessions/{id}/stop``). The server is a real ``lanterna serve`` subprocess.

Baseline: what a user does without a platform — Playwright launches a fresh Chromium (same binary,
same flags) → new page → the same navigation → close.

Both run warm-up runs (not counted), then sequential runs (concurrency 1), then the same number
of runs with ``concurrency`` workers at once.

    python -m bench.lifecycle [--runs 100] [--concurrency 10] [--baseline-runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from playwright.async_api import Playwright, async_playwright

from bench.report import Aim, BenchConfig, BenchSection, Table, ms, pct
from bench.server import BenchServer
from bench.stats import median, percentile
from lanterna.browser import find_chromium
from lanterna.config import Settings
from lanterna.demo.site import DemoSite

RUN_TIMEOUT_S = 120.0
PUBLISHED_MEDIANS_MS = {"Browser Use": 370, "Notte": 410, "Kernel": 467, "Browserbase": 741}
AIM_C1_S = 0.150
AIM_CN_S = 0.400
REFILL_TIMEOUT_S = 60.0
LAUNCH_SETTLE_S = 2.0

LANTERNA_STAGES = ("create", "connect", "navigate", "release")
BASELINE_STAGES = ("launch", "new page", "navigate", "close")


@dataclass
class Runs:
    """Per-stage durations (seconds) of the successful runs, and the failures."""

    stages: tuple[str, ...]
    durations: dict[str, list[float]] = field(default_factory=dict)
    totals: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def add(self, timings: dict[str, float]) -> None:
        for stage in self.stages:
            self.durations.setdefault(stage, []).append(timings[stage])
        self.totals.append(sum(timings.values()))

    @property
    def attempts(self) -> int:
        return len(self.totals) + len(self.failures)


RunOnce = Callable[[], Awaitable[dict[str, float]]]


async def _timed(timings: dict[str, float], stage: str, work: Awaitable[object]) -> None:
    start = time.perf_counter()
    await work
    timings[stage] = time.perf_counter() - start


async def lanterna_run(client: httpx.AsyncClient, playwright: Playwright, page_url: str) -> dict[str, float]:
    """One session through lanterna's API; returns the duration of each stage."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    response = await client.post("/sessions/start", json={})
    response.raise_for_status()
    session_id = response.json()["session_id"]
    timings["create"] = time.perf_counter() - start
    try:
        start = time.perf_counter()
        debug = await client.get(f"/sessions/{session_id}/debug")
        debug.raise_for_status()
        browser = await playwright.chromium.connect_over_cdp(debug.json()["ws"]["cdp"])
        timings["connect"] = time.perf_counter() - start
        try:
            context = browser.contexts[0] if browser.contexts else await browser.new_context()
            page = context.pages[0] if context.pages else await context.new_page()
            await _timed(timings, "navigate", page.goto(page_url, wait_until="domcontentloaded"))
        finally:
            start = time.perf_counter()
            await browser.close()  # over CDP this disconnects; the browser is the server's to end
            disconnect = time.perf_counter() - start
    finally:
        start = time.perf_counter()
        stopped = await client.delete(f"/sessions/{session_id}/stop")
        timings["release"] = time.perf_counter() - start
    stopped.raise_for_status()
    timings["release"] += disconnect
    return timings


async def baseline_run(
    playwright: Playwright, executable: str, args: list[str], page_url: str
) -> dict[str, float]:
    """One fresh Chromium launched by Playwright; returns the duration of each stage."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    browser = await playwright.chromium.launch(executable_path=executable, args=args, headless=True)
    timings["launch"] = time.perf_counter() - start
    try:
        start = time.perf_counter()
        page = await browser.new_page()
        timings["new page"] = time.perf_counter() - start
        await _timed(timings, "navigate", page.goto(page_url, wait_until="domcontentloaded"))
    finally:
        start = time.perf_counter()
        await browser.close()
        timings["close"] = time.perf_counter() - start
    return timings


async def measure(run_once: RunOnce, stages: tuple[str, ...], count: int, concurrency: int) -> Runs:
    """``count`` runs by ``concurrency`` workers, each starting its next run as soon as one ends."""
    runs = Runs(stages)
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            try:
                runs.add(await asyncio.wait_for(run_once(), RUN_TIMEOUT_S))
            except Exception as exc:
                runs.failures.append(f"{type(exc).__name__}: {exc}"[:300])

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    runs.wall_s = time.perf_counter() - start
    return runs


async def _phases(
    run_once: RunOnce, stages: tuple[str, ...], warmup: int, count: int, concurrency: int
) -> tuple[Runs, Runs]:
    await measure(run_once, stages, warmup, 1)
    sequential = await measure(run_once, stages, count, 1)
    parallel = await measure(run_once, stages, count, concurrency)
    return sequential, parallel


def _stage_table(caption: str, runs: Runs) -> Table:
    rows = []
    for stage in runs.stages:
        values = runs.durations.get(stage, [])
        rows.append([stage, ms(median(values)), ms(percentile(values, 95))])
    rows.append(["**total**", f"**{ms(median(runs.totals))}**", f"**{ms(percentile(runs.totals, 95))}**"])
    return Table(caption=caption, header=["stage", "median ms", "p95 ms"], rows=rows)


def _summary_row(name: str, concurrency: int, runs: Runs, *, paced: bool = False) -> list[str]:
    rate = len(runs.totals) / runs.wall_s if runs.wall_s else 0.0
    return [
        name,
        str(concurrency),
        ms(median(runs.totals)),
        ms(percentile(runs.totals, 95)),
        pct(len(runs.totals), runs.attempts),
        "–" if paced else f"{rate:.1f}",
    ]


async def run(config: BenchConfig) -> BenchSection:
    """Measure lanterna's session lifecycle and the launch-per-session baseline."""
    begin = time.perf_counter()
    settings = Settings()
    executable = find_chromium(settings)
    concurrency = config.lifecycle_concurrency
    with DemoSite() as site:
        page_url = site.page("index.html")
        async with async_playwright() as playwright:
            async with (
                BenchServer(pool_size=config.lifecycle_pool_size) as server,
                httpx.AsyncClient(
                    base_url=server.url, headers=server.headers, timeout=RUN_TIMEOUT_S
                ) as client,
            ):
                lanterna_seq, lanterna_par = await _phases(
                    lambda: lanterna_run(client, playwright, page_url),
                    LANTERNA_STAGES,
                    config.lifecycle_warmup,
                    config.lifecycle_runs,
                    concurrency,
                )
                browsers_after = server.browser_count()

                async def when_pool_is_full() -> dict[str, float]:
                    await server.wait_for_browsers(config.lifecycle_pool_size, REFILL_TIMEOUT_S)
                    await asyncio.sleep(LAUNCH_SETTLE_S)  # a browser counts from its spawn; let it finish
                    return await lanterna_run(client, playwright, page_url)

                lanterna_ready = await measure(
                    when_pool_is_full, LANTERNA_STAGES, config.lifecycle_ready_runs, 1
                )
            base_seq, base_par = await _phases(
                lambda: baseline_run(playwright, executable, settings.chromium_arg_list, page_url),
                BASELINE_STAGES,
                config.baseline_warmup,
                config.baseline_runs,
                concurrency,
            )

    c1 = median(lanterna_seq.totals)
    cn = median(lanterna_par.totals)
    summary = Table(
        caption="Total time per session: create → connect → navigate → release",
        header=["", "concurrency", "median ms", "p95 ms", "success", "sessions/s"],
        rows=[
            _summary_row("**lanterna** (warm pool, via API + CDP proxy)", 1, lanterna_seq),
            _summary_row("**lanterna**", concurrency, lanterna_par),
            _summary_row("lanterna, each run waits until the pool is full", 1, lanterna_ready, paced=True),
            _summary_row("Playwright, fresh Chromium per session", 1, base_seq),
            _summary_row("Playwright, fresh Chromium per session", concurrency, base_par),
            *[
                [f"{name} (published, cloud, over the internet)", "1", str(value), "–", "–", "–"]
                for name, value in PUBLISHED_MEDIANS_MS.items()
            ],
        ],
    )
    failures = [*lanterna_seq.failures, *lanterna_par.failures, *base_seq.failures, *base_par.failures]
    notes = [
        f"lanterna: {config.lifecycle_warmup} warm-up runs, then {config.lifecycle_runs} sequential and "
        f"{config.lifecycle_runs} at concurrency {concurrency}; server with LANTERNA_POOL_SIZE="
        f"{config.lifecycle_pool_size}. Baseline: {config.baseline_warmup} warm-up runs, then "
        f"{config.baseline_runs} sequential and {config.baseline_runs} at concurrency {concurrency} "
        "(fewer: a fresh launch varies little from run to run, as its p95 shows).",
        "Runs follow each other back to back, so once the warm pool is drained a session waits for a "
        "browser launch, and the totals measure how fast the server launches browsers as much as how fast "
        f"it hands them out (the server ran {browsers_after} of its {config.lifecycle_pool_size} warm "
        "browsers right after the last run). The row *each run waits until the pool is full* is "
        f"{config.lifecycle_ready_runs} more sequential runs, each started {LAUNCH_SETTLE_S:.0f} s after "
        f"the server again ran {config.lifecycle_pool_size} browsers: what a session costs while the pool "
        "keeps up.",
        "The published medians were measured by their vendors' users over the internet (2026-08) and "
        "include network round trips; lanterna's and the baseline's are on loopback. They are quoted for "
        "scale, not as a same-conditions comparison.",
    ]
    if failures:
        notes.append(f"{len(failures)} failed run(s); first: `{failures[0]}`")
    return BenchSection(
        title="Session lifecycle",
        command=f"python -m bench.lifecycle --runs {config.lifecycle_runs} --concurrency {concurrency}",
        explanation=__doc__.split("\n\n    python")[0].split("\n", 1)[1].strip(),
        tables=[
            summary,
            _stage_table("lanterna, concurrency 1", lanterna_seq),
            _stage_table(f"lanterna, concurrency {concurrency}", lanterna_par),
            _stage_table("lanterna, concurrency 1, each run waits until the pool is full", lanterna_ready),
            _stage_table("fresh Chromium per session, concurrency 1", base_seq),
            _stage_table(f"fresh Chromium per session, concurrency {concurrency}", base_par),
        ],
        notes=notes,
        aims=[
            Aim(
                aim=f"≤ {AIM_C1_S * 1000:.0f} ms median at concurrency 1",
                measured=f"{ms(c1)} ms back to back; {ms(median(lanterna_ready.totals))} ms with a full pool",
                met=None if c1 is None else c1 <= AIM_C1_S,
            ),
            Aim(
                aim=f"≤ {AIM_CN_S * 1000:.0f} ms median at concurrency 10",
                measured=f"{ms(cn)} ms at concurrency {concurrency}",
                met=None if cn is None or concurrency != 10 else cn <= AIM_CN_S,
            ),
        ],
        numbers={
            "lanterna_c1_median_ms": (c1 or 0) * 1000,
            "lanterna_cn_median_ms": (cn or 0) * 1000,
            "baseline_c1_median_ms": (median(base_seq.totals) or 0) * 1000,
            "baseline_cn_median_ms": (median(base_par.totals) or 0) * 1000,
            "lanterna_ready_median_ms": (median(lanterna_ready.totals) or 0) * 1000,
            "lanterna_success_rate": len(lanterna_seq.totals + lanterna_par.totals)
            / max(1, lanterna_seq.attempts + lanterna_par.attempts),
            "baseline_success_rate": len(base_seq.totals + base_par.totals)
            / max(1, base_seq.attempts + base_par.attempts),
        },
        seconds=time.perf_counter() - begin,
    )


def main() -> None:
    from bench.run_all import run_one

    parser = argparse.ArgumentParser(
        description="Session lifecycle: lanterna vs a fresh Chromium per session."
    )
    parser.add_argument("--runs", type=int, default=BenchConfig().lifecycle_runs)
    parser.add_argument("--warmup", type=int, default=BenchConfig().lifecycle_warmup)
    parser.add_argument("--concurrency", type=int, default=BenchConfig().lifecycle_concurrency)
    parser.add_argument("--pool-size", type=int, default=BenchConfig().lifecycle_pool_size)
    parser.add_argument("--ready-runs", type=int, default=BenchConfig().lifecycle_ready_runs)
    parser.add_argument("--baseline-runs", type=int, default=BenchConfig().baseline_runs)
    args = parser.parse_args()
    config = BenchConfig(
        lifecycle_runs=args.runs,
        lifecycle_warmup=args.warmup,
        lifecycle_concurrency=args.concurrency,
        lifecycle_pool_size=args.pool_size,
        lifecycle_ready_runs=args.ready_runs,
        baseline_runs=args.baseline_runs,
    )
    run_one(run, config)


if __name__ == "__main__":
    main()
