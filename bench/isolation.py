"""What the browser sandbox and the egress proxy cost: launch, navigation and subresources.

Three ways to run a browser, measured side by side in one run, in turn (round-robin), on the
bundled demo shop served on loopback:

- *isolated* — lanterna's default as root: its own uid, private mount namespace with the managed
  policy, Chromium's sandbox on, every request through the egress proxy;
- *proxy only* — ``LANTERNA_BROWSER_ISOLATION=off``: the same proxy, no OS isolation;
- *plain* — Chromium launched by Playwright with lanterna's flags, no proxy, no isolation.

*launch* is process start to a connected Playwright browser with a page; *navigate* a ``goto`` of
a shop page (HTML + CSS + JS), waiting for ``load``; *20 fetches* the time page JavaScript takes
to fetch 20 small files one after another (each a new proxy connection when proxied).

    python -m bench.isolation [--runs 30] [--launches 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from playwright.async_api import Page, async_playwright

from bench.report import BenchConfig, BenchSection, Table, ms
from bench.stats import median, percentile
from lanterna.browser import BrowserPool, find_chromium
from lanterna.browser.chromium import AUTOMATION_ARGS
from lanterna.config import Settings
from lanterna.demo.site import DemoSite

FETCHES = 20
MODES = ("isolated", "proxy only", "plain")

Opener = Callable[[], Awaitable[tuple[Page, Callable[[], Awaitable[None]]]]]


@asynccontextmanager
async def _openers() -> AsyncIterator[dict[str, Opener]]:
    pools = {
        "isolated": BrowserPool(Settings(), size=0),
        "proxy only": BrowserPool(Settings(browser_isolation="off"), size=0),
    }
    for pool in pools.values():
        await pool.start()
    settings = Settings()
    async with async_playwright() as playwright:

        def pooled(pool: BrowserPool) -> Opener:
            async def open_page() -> tuple[Page, Callable[[], Awaitable[None]]]:
                session = await pool.acquire()
                return session.page, lambda: pool.release(session)

            return open_page

        async def plain() -> tuple[Page, Callable[[], Awaitable[None]]]:
            browser = await playwright.chromium.launch(
                executable_path=find_chromium(settings),
                args=[*AUTOMATION_ARGS, *settings.chromium_arg_list],
            )
            page = await browser.new_page()
            return page, browser.close

        try:
            yield {
                "isolated": pooled(pools["isolated"]),
                "proxy only": pooled(pools["proxy only"]),
                "plain": plain,
            }
        finally:
            for pool in pools.values():
                await pool.close()


async def _fetches(page: Page, base: str) -> float:
    seconds: float = await page.evaluate(
        """async ([base, n]) => {
            const t0 = performance.now();
            for (let i = 0; i < n; i++) await (await fetch(`${base}/assets/shop.css?${i}`)).text();
            return (performance.now() - t0) / 1000;
        }""",
        [base, FETCHES],
    )
    return seconds


async def measure(runs: int, launches: int) -> dict[str, dict[str, list[float]]]:
    samples: dict[str, dict[str, list[float]]] = {
        m: {"launch": [], "navigate": [], "fetch": []} for m in MODES
    }
    with DemoSite() as shop:
        async with _openers() as openers:
            for round_ in range(max(runs, launches)):
                for mode in MODES:
                    begin = time.perf_counter()
                    page, close = await openers[mode]()
                    launched = time.perf_counter() - begin
                    try:
                        if round_ < launches:
                            samples[mode]["launch"].append(launched)
                        if round_ < runs:
                            await page.goto(shop.page("index.html"))  # warm: caches, first connection
                            begin = time.perf_counter()
                            await page.goto(shop.page("products.html"), wait_until="load")
                            samples[mode]["navigate"].append(time.perf_counter() - begin)
                            samples[mode]["fetch"].append(await _fetches(page, shop.url))
                    finally:
                        await close()
    return samples


def _cells(values: list[float]) -> list[str]:
    return [ms(median(values)), ms(percentile(values, 95))]


async def run(config: BenchConfig) -> BenchSection:
    runs, launches = config.isolation_runs, config.isolation_launches
    samples = await measure(runs, launches)
    rows = [
        [mode, *_cells(s["launch"]), *_cells(s["navigate"]), *_cells(s["fetch"])]
        for mode, s in samples.items()
    ]
    ratio = ""
    isolated, plain = median(samples["isolated"]["navigate"]), median(samples["plain"]["navigate"])
    if isolated and plain:
        ratio = f"Navigation with every protection on takes {isolated / plain:.2f}× the plain browser's time."
    return BenchSection(
        title="Browser isolation and egress proxy",
        command=f"python -m bench.isolation --runs {runs} --launches {launches}",
        explanation=(__doc__ or "").split("\n\n    python")[0].split("\n", 1)[1].strip(),
        tables=[
            Table(
                caption=f"{launches} launches and {runs} navigations per mode, interleaved",
                header=[
                    "",
                    "launch median ms",
                    "p95",
                    "navigate median ms",
                    "p95",
                    f"{FETCHES} fetches ms",
                    "p95",
                ],
                rows=rows,
            )
        ],
        notes=[n for n in (ratio,) if n],
        numbers={
            f"{mode.replace(' ', '_')}_{stage}_median_s": value
            for mode, stages in samples.items()
            for stage, values in stages.items()
            if (value := median(values)) is not None
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--launches", type=int, default=5)
    args = parser.parse_args()
    from bench.run_all import run_one

    run_one(run, BenchConfig(isolation_runs=args.runs, isolation_launches=args.launches))


if __name__ == "__main__":
    main()
