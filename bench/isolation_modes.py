"""Session lifecycle in the pool, process isolation beside context isolation, in one run.

Each run: ``pool.acquire()`` → go to a local page (``domcontentloaded``) → ``pool.release(wait=False)``,
back to back at concurrency 1. Measured in the pool (no API or CDP relay hop): in context isolation
the relay refuses raw CDP, so the API lifecycle bench (``bench.lifecycle``) covers process mode only.

    python -m bench.isolation_modes [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.stats import median
from lanterna.browser import BrowserPool
from lanterna.config import Settings
from lanterna.demo.site import DemoSite

WARMUP = 2


async def _lifecycle_ms(isolation: str, url: str, runs: int) -> list[float]:
    pool = BrowserPool(Settings(isolation=isolation), size=2)  # type: ignore[arg-type]
    await pool.start()
    try:
        await pool.wait_until_ready(2, 60)  # warm browsers, or contexts opened ahead
        times = []
        for i in range(WARMUP + runs):
            start = time.perf_counter()
            session = await pool.acquire()
            await session.page.goto(url, wait_until="domcontentloaded")
            await pool.release(session, wait=False)
            if i >= WARMUP:
                times.append((time.perf_counter() - start) * 1000)
            if isolation == "process":
                await asyncio.sleep(2.0)  # let the refill launch finish, as a user would pause
        return times
    finally:
        await pool.close()


async def _main(runs: int) -> None:
    with DemoSite() as site:
        url = site.url
        for mode in ("process", "context"):
            times = await _lifecycle_ms(mode, url, runs)
            print(f"{mode:8s} median {median(times):7.1f} ms  runs {len(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(_main(parser.parse_args().runs))


if __name__ == "__main__":
    main()
