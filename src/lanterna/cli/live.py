"""The live view of an agent run: each step as it arrives, a spinner while waiting, then the result."""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.markup import escape
from rich.status import Status
from rich.table import Table
from rich.text import Text

from lanterna.models.actions import describe_action
from lanterna.models.agent import AgentStep


class RunResult(Protocol):
    """What the view needs of a finished run (the SDK's agent status has these)."""

    @property
    def success(self) -> bool | None: ...
    @property
    def answer(self) -> str | None: ...
    @property
    def steps(self) -> Sequence[AgentStep]: ...
    @property
    def agent_id(self) -> str: ...


def format_seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {int(seconds % 60)} s"


class LiveRunView:
    """Prints each step of a run as it arrives, with a spinner in between; then the final result.

    Use as a context manager around the wait for the run; call :meth:`show_step` for each step
    as it arrives (or :meth:`show_new_steps` with all steps so far: it prints only the ones not
    shown yet) and :meth:`show_result` at the end.
    """

    def __init__(self, console: Console, *, max_steps: int | None = None) -> None:
        self.console = console
        self.max_steps = max_steps
        self.shown = 0
        self.started = time.monotonic()
        self._status: Status | None = None

    def __enter__(self) -> LiveRunView:
        self.started = time.monotonic()
        self._status = self.console.status(self._waiting_text(), spinner="dots")
        self._status.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _waiting_text(self) -> str:
        total = f"/{self.max_steps}" if self.max_steps else ""
        return f"[dim]step {self.shown + 1}{total} · {format_seconds(self.elapsed)} · thinking…[/]"

    def tick(self) -> None:
        """Refresh the spinner's text (the elapsed time)."""
        if self._status is not None:
            self._status.update(self._waiting_text())

    def show_step(self, step: AgentStep) -> None:
        """Print the next step (as the agent's step stream delivers it)."""
        self.shown += 1
        self.console.print(step_line(self.shown, step))
        self.tick()

    def show_new_steps(self, steps: Sequence[AgentStep]) -> None:
        """Print the steps of ``steps`` not shown yet (all steps so far, e.g. of a final status)."""
        for step in steps[self.shown :]:
            self.show_step(step)
        self.tick()

    def show_result(self, result: RunResult) -> None:
        self.show_new_steps(result.steps)
        if self._status is not None:
            self._status.stop()
            self._status = None
        answer = result.answer or "(no answer)"
        self.console.print()
        self.console.print(Text("Answer: ", style="bold").append(answer, style="bold"))
        outcome = "[bold green]✓ success[/]" if result.success else "[bold red]✗ failed[/]"
        steps = len(result.steps)
        self.console.print(
            f"{outcome} · {steps} step{'s' if steps != 1 else ''} · {format_seconds(self.elapsed)}"
        )


def step_line(number: int, step: AgentStep) -> Text:
    """``  2 ✓ click id="L5"  — Clicked link 'Contact'``"""
    mark = Text("✓", style="green") if step.success else Text("✗", style="red")
    line = Text(f"{number:>3} ").append(mark).append(" ").append(describe_action(step.action), style="cyan")
    if step.message:
        line.append("  — ").append(" ".join(step.message.split()), style="dim" if step.success else "red")
    return line


def steps_table(steps: Sequence[AgentStep], *, title: str | None = None) -> Table:
    """All steps of a run as a table: number, action, success, message, duration."""
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("action", style="cyan", overflow="fold")
    table.add_column("ok", justify="center")
    table.add_column("message", overflow="fold")
    table.add_column("time", justify="right", style="dim")
    for number, step in enumerate(steps, start=1):
        seconds = (step.ended_at - step.started_at).total_seconds()
        table.add_row(
            str(number),
            escape(describe_action(step.action)),
            "[green]✓[/]" if step.success else "[red]✗[/]",
            escape(step.message),
            f"{seconds:.1f} s",
        )
    return table
