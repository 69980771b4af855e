"""The live view prints one readable line per step and a result with answer, steps and time."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rich.console import Console

from lanterna.cli.live import LiveRunView, describe_action, steps_table
from lanterna.models.actions import parse_action
from lanterna.models.agent import AgentStep, ReasonerState
from lanterna.wire import AgentStatusResponse

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def step(action: dict[str, object], success: bool, message: str, seconds: float = 0.5) -> AgentStep:
    return AgentStep(
        state=ReasonerState(),
        action=parse_action(action),
        success=success,
        message=message,
        started_at=T0,
        ended_at=T0 + timedelta(seconds=seconds),
    )


STEPS = [
    step({"type": "goto", "url": "http://127.0.0.1:9/"}, True, "Navigated to http://127.0.0.1:9/"),
    step({"type": "click", "id": "L9"}, False, "No element with id 'L9'; use an id from the latest page."),
    step({"type": "click", "id": "L5"}, True, "Clicked link 'Contact'"),
    step({"type": "completion", "success": True, "answer": "hello@lanterna-shop.test"}, True, "Done"),
]


def test_actions_are_summarised_without_their_defaults() -> None:
    assert describe_action(parse_action({"type": "click", "id": "L5"})) == 'click id="L5"'
    assert describe_action(parse_action({"type": "scrape"})) == "scrape"
    assert describe_action(parse_action({"type": "fill", "selector": "#q", "value": "tea"})) == (
        'fill selector="#q" value="tea"'
    )
    long = describe_action(parse_action({"type": "completion", "success": False, "answer": "x" * 200}))
    assert long.startswith('completion success=false answer="xxx') and long.endswith('…"')


def test_live_view_prints_each_step_once_then_the_result() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False)
    result = AgentStatusResponse(
        agent_id="a1",
        session_id="s1",
        status="closed",
        state="completed",
        task="find the email",
        created_at=T0,
        success=True,
        answer="hello@lanterna-shop.test",
        steps=STEPS,
    )
    with LiveRunView(console, max_steps=10) as view:
        view.show_new_steps(STEPS[:2])
        view.show_new_steps(STEPS[:3])  # polling sees earlier steps again
        view.show_result(result)
    lines = out.getvalue().splitlines()
    assert lines[0] == '  1 ✓ goto url="http://127.0.0.1:9/"  — Navigated to http://127.0.0.1:9/'
    assert lines[1].startswith('  2 ✗ click id="L9"  — No element')
    assert lines[2] == "  3 ✓ click id=\"L5\"  — Clicked link 'Contact'"
    assert lines[3].startswith("  4 ✓ completion success=true")
    assert "Answer: hello@lanterna-shop.test" in lines
    assert lines[-1].startswith("✓ success · 4 steps · ")


def test_steps_table_lists_every_step() -> None:
    out = io.StringIO()
    Console(file=out, width=160).print(steps_table(STEPS))
    text = out.getvalue()
    for expected in ('goto url="http://127.0.0.1:9/"', 'click id="L5"', "Clicked link 'Contact'", "0.5 s"):
        assert expected in text
