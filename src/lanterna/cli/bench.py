"""``lanterna bench``: run the benchmark suite of a source checkout and write docs/benchmarks.md.

The benchmarks live in the repository's ``bench/`` folder, not in the installed package (they
need the demo shop, the perception pages and baselines that a user's install has no use for), so
this command finds that folder next to the package sources of an editable install.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from lanterna.cli.console import fail

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # src/lanterna in a checkout


def find_checkout(start: Path = _PACKAGE_DIR) -> Path | None:
    """The repository root holding ``bench/run_all.py`` above ``start``, if there is one."""
    for folder in start.parents:
        if (folder / "bench" / "run_all.py").is_file() and (folder / "pyproject.toml").is_file():
            return folder
    return None


def bench(
    quick: bool = typer.Option(
        False, "--quick", help="A handful of iterations of everything (a few minutes)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Markdown report to write (default: docs/benchmarks.md of the checkout)."
    ),
    only: str | None = typer.Option(
        None,
        "--only",
        help="Comma-separated subset: lifecycle, session_speed, perception, step_overhead, api, "
        "concurrency, isolation.",
    ),
    pages: Path | None = typer.Option(
        None,
        "--pages",
        help="Folder of saved pages for the perception benchmark (default: ../shared/bench-pages).",
    ),
) -> None:
    """Measure lanterna beside its baselines (about 10 minutes on 2 cores) and write the report."""
    root = find_checkout()
    if root is None:
        fail(
            "the benchmarks are part of lanterna's source repository, not of the installed package",
            "clone the repository, install it with `pip install -e '.[dev]'`, and run `lanterna bench` "
            "(or `python -m bench`) from there",
        )
    argv = ["--quick"] if quick else []
    for flag, value in (("--output", output), ("--only", only), ("--pages", pages)):
        if value is not None:
            argv += [flag, str(Path(value).resolve()) if isinstance(value, Path) else value]
    sys.path.insert(0, str(root))
    from bench.run_all import main as run_benchmarks

    raise typer.Exit(code=run_benchmarks(argv, prog="lanterna bench"))
