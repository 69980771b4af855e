"""Run every benchmark and write docs/benchmarks.md.

    python -m bench [--quick] [--output docs/benchmarks.md] [--only lifecycle,api]
    lanterna bench [--quick] ...            (the same, from a source checkout)

Each benchmark runs in turn, alone on the machine as far as this command is concerned; one that
fails or overruns its time budget becomes a section saying so, and the others still run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import describe_machine
from bench.report import REPO_ROOT, BenchConfig, BenchSection, Report, render_markdown, section_markdown
from bench.sharing import OtherWork

# Benchmark modules in the order they run (cheap and sensitive ones first, memory-hungry last).
BENCHMARKS: dict[str, str] = {
    "lifecycle": "Session lifecycle",
    "session_speed": "Sessions under sustained load",
    "perception": "Perception",
    "step_overhead": "Agent step overhead",
    "api": "API",
    "concurrency": "Concurrency",
    "isolation": "Browser isolation and egress proxy",
}
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "benchmarks.md"
SHARED_CPU_SHARE = 0.10  # other work used more than this share of all cores: say the machine was shared

Runner = Callable[[BenchConfig], Coroutine[Any, Any, BenchSection]]


def run_one(run: Runner, config: BenchConfig) -> BenchSection:
    """Run one benchmark from its own command line and print its section as markdown."""
    section = asyncio.run(run(config))
    print(section_markdown(section))
    return section


def _failed(name: str, title: str, reason: str) -> BenchSection:
    return BenchSection(
        title=title,
        command=f"python -m bench.{name}",
        explanation=f"This benchmark did not complete in this run: {reason}",
    )


async def run_benchmark(name: str, config: BenchConfig) -> BenchSection:
    """Import ``bench.<name>`` and await its ``run(config)``, within the time budget."""
    title = BENCHMARKS.get(name, name)
    try:
        module = importlib.import_module(f"bench.{name}")
    except ImportError as exc:
        return _failed(name, title, f"`bench/{name}.py` could not be imported ({exc}).")
    run = getattr(module, "run", None)
    if run is None:
        return _failed(name, title, f"`bench/{name}.py` has no `async def run(config) -> BenchSection`.")
    begin = time.perf_counter()
    try:
        section: BenchSection = await asyncio.wait_for(run(config), config.timeout_s)
    except TimeoutError:
        return _failed(name, title, f"it did not finish within {config.timeout_s:.0f} s.")
    except Exception as exc:
        traceback.print_exc()
        return _failed(name, title, f"`{type(exc).__name__}: {exc}`")
    if not section.seconds:
        section.seconds = time.perf_counter() - begin
    return section


async def run_all(
    config: BenchConfig, names: list[str], *, progress: Callable[[str], None] = print
) -> Report:
    machine = describe_machine()
    started = datetime.now(UTC)
    begin = time.perf_counter()
    sections = []
    async with OtherWork() as other:
        for name in names:
            progress(f"[bench] {name} …")
            section = await run_benchmark(name, config)
            progress(f"[bench] {name} done in {section.seconds:.0f} s")
            sections.append(section)
    return Report(
        machine=machine,
        command="",
        started=started,
        seconds=time.perf_counter() - begin,
        config=config,
        sections=sections,
        others_cpu_share=other.share,
        shared_machine=other.share > SHARED_CPU_SHARE,
    )


def build_parser(prog: str = "python -m bench") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Run lanterna's benchmarks and write the report.")
    parser.add_argument(
        "--quick", action="store_true", help="a handful of iterations of everything (minutes)"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="markdown report to write")
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--pages", type=Path, default=None, help="folder of perception pages (bench-pages)")
    return parser


def config_from(args: argparse.Namespace) -> BenchConfig:
    config = BenchConfig.quick() if args.quick else BenchConfig.full()
    if args.pages is not None:
        config.perception_pages = args.pages.resolve()
    return config


def main(argv: list[str] | None = None, prog: str = "python -m bench") -> int:
    args = build_parser(prog).parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    os.chdir(REPO_ROOT)
    report = asyncio.run(run_all(config_from(args), names))
    report.command = " ".join([prog, *map(shlex.quote, argv if argv is not None else sys.argv[1:])]).strip()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_markdown(report))
    print(f"[bench] wrote {args.output} ({report.seconds / 60:.1f} min)")
    return 0
