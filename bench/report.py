"""The contract between benchmark modules and the runner, and the markdown report.

A benchmark module exposes::

    async def run(config: BenchConfig) -> BenchSection

It reads the knobs it needs from ``config`` (one shared model, so ``lanterna bench`` can set them
all), measures, and returns a section: tables with the baselines beside lanterna, what each number
means, and the aims it checks. It reports; it never asserts speed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BENCH_PAGES = REPO_ROOT.parent / "shared" / "bench-pages"


class BenchConfig(BaseModel):
    """Every knob of every benchmark. ``full()``, ``quick()`` and ``smoke()`` are the presets."""

    label: str = "full"

    # session lifecycle
    lifecycle_warmup: int = 10
    lifecycle_runs: int = 100
    lifecycle_concurrency: int = 10
    lifecycle_pool_size: int = 10
    lifecycle_ready_runs: int = 20  # sequential runs that each wait for a full warm pool
    baseline_warmup: int = 2
    baseline_runs: int = 20

    # perception (bench/perception.py)
    perception_pages: Path | None = None  # None: ../shared/bench-pages beside the repository
    perception_repeats: int = 5
    perception_baselines: bool = True  # notte / browser-use, where importable

    # step overhead (bench/step_overhead.py)
    step_overhead_steps: int = 60

    # concurrency
    agent_counts: list[int] = Field(default_factory=lambda: [10, 25, 50])
    idle_sessions: int = 10
    concurrency_pool_size: int = 10

    # API
    api_rate: float = 200.0
    api_duration_s: float = 10.0
    ws_steps: int = 100

    # sessions under sustained load (bench/session_speed.py)
    speed_warmup: int = 5
    speed_runs: int = 40
    speed_concurrency: int = 10
    speed_baseline_runs: int = 20
    speed_agents: int = 50

    isolation_runs: int = 30
    isolation_launches: int = 5
    timeout_s: float = 600.0  # per benchmark; a stuck one ends with a note, the rest still run

    @classmethod
    def full(cls) -> BenchConfig:
        return cls()

    @classmethod
    def quick(cls) -> BenchConfig:
        """A couple of minutes: a handful of iterations of everything."""
        return cls(
            label="quick",
            lifecycle_warmup=2,
            lifecycle_runs=10,
            lifecycle_concurrency=5,
            lifecycle_pool_size=5,
            lifecycle_ready_runs=5,
            baseline_warmup=1,
            baseline_runs=5,
            perception_repeats=2,
            step_overhead_steps=10,
            agent_counts=[5],
            idle_sessions=3,
            concurrency_pool_size=3,
            api_rate=100.0,
            api_duration_s=3.0,
            ws_steps=20,
            isolation_runs=10,
            isolation_launches=3,
            speed_warmup=2,
            speed_runs=10,
            speed_baseline_runs=5,
            speed_agents=10,
        )

    @classmethod
    def smoke(cls) -> BenchConfig:
        """Just enough to prove the code runs (the test suite uses it)."""
        return cls(
            label="smoke",
            lifecycle_warmup=1,
            lifecycle_runs=2,
            lifecycle_concurrency=2,
            lifecycle_pool_size=1,
            lifecycle_ready_runs=1,
            baseline_warmup=0,
            baseline_runs=2,
            perception_repeats=1,
            perception_baselines=False,
            step_overhead_steps=3,
            agent_counts=[2],
            idle_sessions=1,
            concurrency_pool_size=1,
            api_rate=20.0,
            api_duration_s=1.0,
            ws_steps=5,
            isolation_runs=2,
            isolation_launches=1,
            speed_warmup=1,
            speed_runs=2,
            speed_concurrency=2,
            speed_baseline_runs=2,
            speed_agents=2,
            timeout_s=180.0,
        )

    @property
    def bench_pages(self) -> Path:
        return self.perception_pages or DEFAULT_BENCH_PAGES


class Table(BaseModel):
    """One markdown table; cells are already formatted."""

    caption: str | None = None
    header: list[str]
    rows: list[list[str]]


class Aim(BaseModel):
    """A target from the issue and what this run measured against it."""

    aim: str
    measured: str
    met: bool | None  # None: not measurable in this run


class BenchSection(BaseModel):
    """What one benchmark module reports."""

    title: str
    command: str  # how to run this benchmark alone
    explanation: str  # what is measured, how, and what the numbers mean (markdown)
    tables: list[Table] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    aims: list[Aim] = Field(default_factory=list)
    numbers: dict[str, float] = Field(default_factory=dict)  # headline numbers, machine-readable
    seconds: float = 0.0  # wall time of the benchmark itself


class Machine(BaseModel):
    cpu: str
    cores: int
    ram_gib: float
    os: str
    chromium: str
    python: str
    playwright: str
    lanterna: str
    load_before: str


class Report(BaseModel):
    machine: Machine
    command: str
    started: datetime
    seconds: float
    config: BenchConfig
    sections: list[BenchSection]
    others_cpu_share: float = 0.0  # share of all cores' time used by other processes during the run
    shared_machine: bool = False


# ----- formatting ---------------------------------------------------------------------------


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds for a table: 3 significant figures, thousands separated."""
    if seconds is None:
        return "–"
    value = seconds * 1000
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def mib(num_bytes: float | None) -> str:
    return "–" if num_bytes is None else f"{num_bytes / 2**20:,.0f} MiB"


def pct(part: int, whole: int) -> str:
    return "–" if whole == 0 else f"{part}/{whole} ({100 * part / whole:.0f} %)"


def _numeric(table: Table, column: int) -> bool:
    """Right-align a column whose cells all start with a number (or are empty)."""
    cells = [row[column].strip("* ") for row in table.rows if column < len(row)]
    return bool(cells) and all(not c or c[0].isdigit() or c[0] in "–-" for c in cells)


def _table_md(table: Table) -> str:
    lines = []
    if table.caption:
        lines += [f"*{table.caption}*", ""]
    lines.append("| " + " | ".join(table.header) + " |")
    lines.append(
        "| " + " | ".join("---:" if _numeric(table, i) else "---" for i in range(len(table.header))) + " |"
    )
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    return "\n".join(lines)


def _met(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "not measured"}[value]


def render_markdown(report: Report) -> str:
    """docs/benchmarks.md: the machine, the command and the date, the aims, then each benchmark."""
    m = report.machine
    out = [
        "# Benchmarks",
        "",
        "Every number here was measured in one run of the command below, lanterna and its baselines "
        "side by side on the same machine. The benchmarks report; they assert nothing. "
        "Regenerate this file with the same command.",
        "",
        "```",
        report.command,
        "```",
        "",
        f"- **Date:** {report.started:%Y-%m-%d %H:%M} UTC ({report.config.label} run, "
        f"{report.seconds / 60:.1f} min)",
        f"- **CPU:** {m.cpu}, {m.cores} cores · **RAM:** {m.ram_gib:.0f} GiB · **OS:** {m.os}",
        f"- **Chromium:** {m.chromium} · **Python:** {m.python} · **Playwright:** {m.playwright} "
        f"· **lanterna:** {m.lanterna}",
        f"- **Load average before the run:** {m.load_before} · **CPU used by other work during the "
        f"run:** {100 * report.others_cpu_share:.0f} % of all cores",
    ]
    if report.shared_machine:
        out.append(
            "- The machine was shared with other work during the run (other test suites, browsers and "
            "servers): absolute times are pessimistic and noisy, the side-by-side comparisons within a "
            "table are what to read."
        )
    aims = [(s.title, a) for s in report.sections for a in s.aims]
    if aims:
        out += [
            "",
            "## Aims",
            "",
            _table_md(
                Table(
                    header=["benchmark", "aim", "measured", "met"],
                    rows=[[title, a.aim, a.measured, _met(a.met)] for title, a in aims],
                )
            ),
        ]
    for section in report.sections:
        out += ["", section_markdown(section)]
    return "\n".join(out) + "\n"


def section_markdown(section: BenchSection) -> str:
    """One benchmark's part of the report: what it measures, how to run it alone, its tables."""
    out = [f"## {section.title}", "", section.explanation.strip(), "", "```", section.command, "```"]
    for table in section.tables:
        out += ["", _table_md(table)]
    if section.notes:
        out.append("")
        out += [f"- {note}" for note in section.notes]
    out += ["", f"<sub>Took {section.seconds:.0f} s.</sub>"]
    return "\n".join(out)
