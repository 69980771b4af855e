"""The benchmark suite, a handful of iterations of each, so its code cannot rot.

These tests check that every benchmark runs against the real server and browsers and reports
numbers in its section; they say nothing about speed (docs/benchmarks.md does).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.report import BenchConfig, Report, render_markdown
from bench.run_all import BENCHMARKS, run_all
from typer.testing import CliRunner

from lanterna.cli.bench import find_checkout
from lanterna.cli.main import app

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
async def smoke_report() -> Report:
    """Every benchmark once, with a handful of iterations (about a minute on a quiet machine).

    Without the saved bench pages (a user's clone has none), perception runs on the test pages.
    """
    config = BenchConfig.smoke()
    if not config.bench_pages.is_dir():
        config = config.model_copy(update={"perception_pages": REPO_ROOT / "tests" / "pages"})
    return await run_all(config, list(BENCHMARKS), progress=lambda _: None)


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_each_benchmark_reports_tables_of_numbers(smoke_report: Report, name: str) -> None:
    section = next(s for s in smoke_report.sections if s.title == BENCHMARKS[name])
    assert section.tables, f"{name} did not complete: {section.explanation}"
    assert all(table.rows for table in section.tables)
    assert section.numbers and all(value == value for value in section.numbers.values())  # no NaN


def test_sessions_agents_and_steps_succeed_in_the_smoke_run(smoke_report: Report) -> None:
    # Success, not speed: a run may still lose a session to a starved machine, so at least half must pass.
    sections = {s.title: s for s in smoke_report.sections}
    lifecycle, concurrency, api = (sections[t] for t in ("Session lifecycle", "Concurrency", "API"))
    assert lifecycle.numbers["lanterna_success_rate"] >= 0.5, lifecycle.notes
    assert lifecycle.numbers["baseline_success_rate"] >= 0.5, lifecycle.notes
    assert concurrency.numbers["completed_2"] >= 0.5, concurrency.notes
    assert concurrency.numbers["chromium_left_after_release"] == 0, concurrency.notes
    assert concurrency.numbers["chromium_left_after_stop"] == 0, concurrency.notes
    assert api.numbers["status_answered"] > 0 and api.numbers["ws_steps"] > 0, api.notes


def test_report_names_the_machine_and_every_section(smoke_report: Report, tmp_path: Path) -> None:
    text = render_markdown(smoke_report)
    assert "Chromium" in smoke_report.machine.chromium
    assert smoke_report.machine.cores >= 1
    for title in BENCHMARKS.values():
        assert f"## {title}" in text
    assert "## Aims" in text


def test_lanterna_bench_finds_the_checkout_and_passes_options_through() -> None:
    assert find_checkout() == REPO_ROOT
    result = CliRunner().invoke(app, ["bench", "--only", "no-such-benchmark"])
    assert result.exit_code == 2


def test_no_checkout_is_found_above_an_installed_package(tmp_path: Path) -> None:
    assert find_checkout(tmp_path / "site-packages" / "lanterna") is None
