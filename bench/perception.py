"""Perception: warm-pool acquire, and observe() on saved real pages beside Playwright's raw AI snapshot.

Acquire: a pool of 2 warm browsers; each run waits until the pool is full again, then times
``BrowserPool.acquire()`` (and the ``release()`` after it). Observe: one session visits each page of
the bench-pages folder (saved checkout, search and sign-in pages, served on 127.0.0.1; every other
host name fails to resolve, so nothing waits for the internet), takes one untimed warm-up, then
alternately times Playwright's ``page.aria_snapshot(mode="ai")`` (the raw snapshot lanterna builds
on) and lanterna's ``observe()`` (snapshot + parsing + ids + text rendering + scroll metrics),
and ``observe(probe=False)`` (*tree*: the accessibility tree alone, without the page probe for
clickable elements that have no role), so the probe's cost shows side by side in one run.
*Interactive* counts the raw snapshot's elements with a ref and an interactive role (link, button,
textbox, combobox, checkbox, radio, tab, option …); *kept* is how many of those refs observe() gave
an id. *Chars* is the size of the text an LLM would read: the raw YAML, or observe()'s rendering.
Where an environment with notte and browser-use exists (see ``bench/perception_baselines.py``),
their page-state calls are timed on the same pages in the same run.

    python bench/perception.py [--pages-dir ../shared/bench-pages] [--repeats 5] [--no-baselines]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.perception_baselines import LIBRARIES, measure_baselines, serve_pages
from bench.report import (
    DEFAULT_BENCH_PAGES,
    Aim,
    BenchConfig,
    BenchSection,
    Table,
    ms,
    pct,
    section_markdown,
)
from bench.stats import median, percentile
from lanterna.browser import BrowserPool, BrowserSession, find_chromium
from lanterna.config import Settings
from lanterna.perception.observe import observe

OFFLINE_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"]
ACQUIRE_POOL_SIZE = 2
PAGE_TIMEOUT_MS = 30_000
AIM_ACQUIRE_S = 0.010
AIM_OBSERVE_S = 0.100
AIM_CHARS = 56_000
INTERACTIVE = (
    "link|button|textbox|searchbox|combobox|checkbox|radio|switch|tab|menuitem|menuitemcheckbox"
    "|menuitemradio|option|slider|spinbutton|listbox"
)
RAW_INTERACTIVE = re.compile(rf"^\s*- '?(?:{INTERACTIVE})\b[^\n]*?\[ref=([a-z0-9]+)\]", re.M)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


@dataclass
class PageResult:
    name: str
    raw_s: list[float] = field(default_factory=list)
    observe_s: list[float] = field(default_factory=list)
    tree_s: list[float] = field(default_factory=list)
    tree_chars: int = 0
    tree_elements: int = 0
    raw_chars: int = 0
    raw_interactive: int = 0
    elements: int = 0
    kept: int = 0
    chars: int = 0
    error: str | None = None


async def measure_acquire(settings: Settings, runs: int) -> tuple[list[float], list[float]]:
    """Durations of warm ``acquire()`` and of ``release()``."""
    acquires: list[float] = []
    releases: list[float] = []
    pool = BrowserPool(settings, size=ACQUIRE_POOL_SIZE, extra_args=OFFLINE_ARGS)
    await pool.start()
    try:
        for _ in range(runs):
            for _ in range(1200):  # wait (at most 60 s) until the pool is warm again
                if pool.warm_count >= ACQUIRE_POOL_SIZE:
                    break
                await asyncio.sleep(0.05)
            start = time.perf_counter()
            session = await pool.acquire()
            acquires.append(time.perf_counter() - start)
            start = time.perf_counter()
            await pool.release(session)
            releases.append(time.perf_counter() - start)
    finally:
        await pool.close()
    return acquires, releases


async def measure_page(session: BrowserSession, url: str, name: str, repeats: int) -> PageResult:
    result = PageResult(name)
    page = session.page
    try:
        await page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
    except Exception as exc:  # a page that never fires load is still measured as it stands
        result.error = f"load: {str(exc).splitlines()[0]}"
    await observe(session)  # warm-up, not counted
    raw = ""
    for _ in range(repeats):
        start = time.perf_counter()
        raw = await page.aria_snapshot(mode="ai")
        result.raw_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        tree = await observe(session, probe=False)
        result.tree_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        obs = await observe(session)
        result.observe_s.append(time.perf_counter() - start)
    if repeats:
        result.tree_chars, result.tree_elements = len(tree.text), len(tree.elements)
    refs = set(RAW_INTERACTIVE.findall(raw))
    result.raw_chars, result.raw_interactive = len(raw), len(refs)
    result.elements, result.chars = len(obs.elements), len(obs.text)
    result.kept = len(refs & {e.ref for e in obs.elements})
    return result


async def measure_pages(settings: Settings, folder: Path, repeats: int) -> list[PageResult]:
    names = sorted(p.name for p in folder.glob("*.html"))
    pool = BrowserPool(settings, size=1, extra_args=OFFLINE_ARGS)
    await pool.start()
    try:
        session = await pool.acquire()
        with serve_pages(folder) as url:
            return [await measure_page(session, f"{url}/{name}", name, repeats) for name in names]
    finally:
        await pool.close()


def _baseline_cells(baselines: dict[str, Any], library: str, name: str) -> list[str]:
    page = (baselines.get("libraries", {}).get(library) or {}).get("pages", {}).get(name)
    if not page or page.get("error"):
        return ["–", "–", "–"]
    return [ms(page["median_ms"] / 1000), str(page["elements"]), f"{page['chars']:,}"]


async def run(config: BenchConfig) -> BenchSection:
    begin = time.perf_counter()
    load_before = os.getloadavg()[0]
    settings = Settings()
    folder = config.bench_pages
    if not folder.is_dir():
        raise FileNotFoundError(f"bench pages not found at {folder}; pass --pages-dir")
    acquires, releases = await measure_acquire(settings, max(5, 4 * config.perception_repeats))
    pages = await measure_pages(settings, folder, config.perception_repeats)
    baselines: dict[str, Any] = {}
    if config.perception_baselines:
        baselines = await asyncio.to_thread(
            measure_baselines, folder, find_chromium(settings), settings.chromium_arg_list,
            config.perception_repeats,
        )  # fmt: skip
    libraries = [lib for lib in LIBRARIES if lib in baselines.get("libraries", {})]

    observe_medians = [median(p.observe_s) or 0 for p in pages]
    raw_medians = [median(p.raw_s) or 0 for p in pages]
    tree_medians = [median(p.tree_s) or 0 for p in pages]
    observe_all = [s for p in pages for s in p.observe_s]
    total = {
        "raw_chars": sum(p.raw_chars for p in pages),
        "chars": sum(p.chars for p in pages),
        "tree_chars": sum(p.tree_chars for p in pages),
        "tree_elements": sum(p.tree_elements for p in pages),
        "interactive": sum(p.raw_interactive for p in pages),
        "kept": sum(p.kept for p in pages),
        "elements": sum(p.elements for p in pages),
    }
    header = ["page", "raw ms", "raw interactive", "raw chars", "tree ms", "tree elements", "tree chars"]
    header += ["observe ms", "elements", "kept", "chars"]
    for lib in libraries:
        header += [f"{lib} ms", f"{lib} elements", f"{lib} chars"]
    rows = []
    for p, raw_med, tree_med, obs_med in zip(pages, raw_medians, tree_medians, observe_medians, strict=True):
        row = [
            p.name.removesuffix(".html"), ms(raw_med), str(p.raw_interactive), f"{p.raw_chars:,}",
            ms(tree_med), str(p.tree_elements), f"{p.tree_chars:,}",
            ms(obs_med), str(p.elements), pct(p.kept, p.raw_interactive), f"{p.chars:,}",
        ]  # fmt: skip
        for lib in libraries:
            row += _baseline_cells(baselines, lib, p.name)
        rows.append(row)
    totals = [
        f"**all {len(pages)} pages** (median / sums)", ms(median(raw_medians)), str(total["interactive"]),
        f"{total['raw_chars']:,}", ms(median(tree_medians)), str(total["tree_elements"]),
        f"{total['tree_chars']:,}",
        ms(median(observe_medians)), str(total["elements"]),
        pct(total["kept"], total["interactive"]), f"{total['chars']:,}",
    ]  # fmt: skip
    for lib in libraries:
        lib_pages = baselines["libraries"][lib].get("pages", {}).values()
        ok = [v for v in lib_pages if not v.get("error")]
        totals += [
            ms(median([v["median_ms"] / 1000 for v in ok])),
            str(sum(v["elements"] for v in ok)),
            f"{sum(v['chars'] for v in ok):,}",
        ]
    rows.append(totals)
    acquire_p50 = median(acquires)
    observe_median = median(observe_medians)
    notes = [
        f"{config.perception_repeats} timed runs per page after one warm-up; page cells are medians. "
        f"Acquire: {len(acquires)} runs from a pool of {ACQUIRE_POOL_SIZE} warm browsers.",
        "*elements* counts every id observe() gave out: the interactive elements plus named or "
        "clickable images (`F`) and other clickable elements (`M`).",
    ]
    notes.append(
        f"Load average (1 min) on this {os.cpu_count()}-core machine: {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after; above the core count, other work competed for the CPU and "
        "the ratios between columns say more than the absolute times."
    )
    notes += [f"{p.name}: {p.error}" for p in pages if p.error]
    if config.perception_baselines and baselines.get("error"):
        notes.append(f"Baselines not measured: {baselines['error']}")
    for lib in libraries:
        err = baselines["libraries"][lib].get("error")
        if err:
            notes.append(f"{lib}: {err}")
    return BenchSection(
        title="Perception",
        command="python bench/perception.py"
        + ("" if folder == DEFAULT_BENCH_PAGES else f" --pages-dir {folder}")
        + f" --repeats {config.perception_repeats}"
        + ("" if config.perception_baselines else " --no-baselines"),
        explanation=__doc__.split("\n\n    python")[0].split("\n", 1)[1].strip(),
        tables=[
            Table(
                caption="Warm-pool acquire and release (ms)",
                header=["", "p50", "p95", "max", "runs"],
                rows=[
                    [
                        "acquire",
                        ms(acquire_p50),
                        ms(percentile(acquires, 95)),
                        ms(max(acquires)),
                        str(len(acquires)),
                    ],
                    [
                        "release",
                        ms(median(releases)),
                        ms(percentile(releases, 95)),
                        ms(max(releases)),
                        str(len(releases)),
                    ],
                ],
            ),
            Table(caption="observe() beside the raw AI snapshot, per page", header=header, rows=rows),
        ],
        notes=notes,
        aims=[
            Aim(
                aim=f"acquire p50 < {AIM_ACQUIRE_S * 1000:.0f} ms from a warm pool",
                measured=f"{ms(acquire_p50)} ms",
                met=None if acquire_p50 is None else acquire_p50 < AIM_ACQUIRE_S,
            ),
            Aim(
                aim=f"observe median < {AIM_OBSERVE_S * 1000:.0f} ms per page",
                measured=f"{ms(observe_median)} ms (raw snapshot {ms(median(raw_medians))} ms)",
                met=None if observe_median is None else observe_median < AIM_OBSERVE_S,
            ),
            Aim(
                aim=f"rendering ≤ {AIM_CHARS:,} chars for all pages",
                measured=f"{total['chars']:,} chars (raw {total['raw_chars']:,})",
                met=total["chars"] <= AIM_CHARS,
            ),
            Aim(
                aim="every interactive element of the raw snapshot kept",
                measured=pct(total["kept"], total["interactive"]),
                met=total["kept"] == total["interactive"],
            ),
        ],
        numbers={
            "acquire_p50_ms": (acquire_p50 or 0) * 1000,
            "release_p50_ms": (median(releases) or 0) * 1000,
            "observe_median_ms": (observe_median or 0) * 1000,
            "observe_p95_ms": (percentile(observe_all, 95) or 0) * 1000,
            "raw_median_ms": (median(raw_medians) or 0) * 1000,
            "tree_median_ms": (median(tree_medians) or 0) * 1000,
            "tree_chars": float(total["tree_chars"]),
            "tree_elements": float(total["tree_elements"]),
            "rendering_chars": float(total["chars"]),
            "raw_chars": float(total["raw_chars"]),
            "elements": float(total["elements"]),
            "raw_interactive": float(total["interactive"]),
            "interactive_kept": float(total["kept"]),
        },
        seconds=time.perf_counter() - begin,
    )


def standalone_markdown(section: BenchSection) -> str:
    """The section with its aims (the full report lists every benchmark's aims in one table instead)."""
    rows = [
        f"| {a.aim} | {a.measured} | {'yes' if a.met else 'no' if a.met is False else '–'} |"
        for a in section.aims
    ]
    aims = "\n".join(["*Aims*", "", "| aim | measured | met |", "| --- | ---: | ---: |", *rows])
    markdown = section_markdown(section)
    cut = markdown.rfind("\n\n<sub>")
    return markdown[:cut] + "\n\n" + aims + markdown[cut:]


def write_section(markdown: str, path: Path = DOCS) -> None:
    """Replace the Perception section of ``path`` (or append it), leaving the other sections."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Perception\n.*?(?=^## |\Z)", re.S | re.M)
    section = markdown.rstrip() + "\n\n"
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Perception: warm acquire, observe() vs the raw AI snapshot."
    )
    parser.add_argument("--pages-dir", type=Path, default=None, help="folder of saved pages (bench-pages)")
    parser.add_argument("--repeats", type=int, default=BenchConfig().perception_repeats)
    parser.add_argument("--no-baselines", action="store_true", help="skip notte and browser-use")
    parser.add_argument(
        "--output", type=Path, default=DOCS, help="markdown file whose Perception section to write"
    )
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    args = parser.parse_args()
    config = BenchConfig(
        perception_pages=args.pages_dir.resolve() if args.pages_dir else None,
        perception_repeats=args.repeats,
        perception_baselines=not args.no_baselines,
    )
    section = asyncio.run(run(config))
    markdown = standalone_markdown(section)
    print(markdown)
    if not args.no_write:
        write_section(markdown, args.output)
        print(f"[bench] wrote the Perception section of {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
