"""The agent loop in a real Chromium on the demo shop: offline tasks and every way a run ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from lanterna.agent.loop import AgentTask, run_agent
from lanterna.browser import BrowserPool, BrowserSession
from lanterna.demo.site import CONTACT_EMAIL, DemoSite
from lanterna.models.agent import AgentOutcome, AgentState, AgentStep
from lanterna.reasoners.base import Decision, Reasoner, ReasonerInput
from lanterna.reasoners.offline import OfflineReasoner
from lanterna.reasoners.scripted import ScriptedReasoner


@pytest.fixture(scope="module")
async def browser(pool: BrowserPool) -> AsyncIterator[BrowserSession]:
    """One browser for the module: every run starts from a URL or does not care about the page."""
    shared = await pool.acquire()
    try:
        yield shared
    finally:
        await pool.release(shared)


async def _run(
    browser: BrowserSession,
    reasoner: Reasoner,
    task: str,
    *,
    stop: asyncio.Event | None = None,
    on_step: Any = None,
    **options: Any,
) -> tuple[AgentOutcome, list[AgentStep]]:
    steps: list[AgentStep] = []

    async def record(step: AgentStep) -> None:
        steps.append(step)
        if on_step is not None:
            await on_step(step)

    outcome = await asyncio.wait_for(
        run_agent(
            browser, reasoner, AgentTask(task=task, **options), on_step=record, stop=stop or asyncio.Event()
        ),
        timeout=60,
    )
    return outcome, steps


def _types(steps: list[AgentStep]) -> list[str]:
    return [s.action.type for s in steps]


# ----- the offline reasoner ---------------------------------------------------------------------


async def test_offline_finds_the_contact_email_by_following_a_link(
    browser: BrowserSession, demo_site: DemoSite
) -> None:
    outcome, steps = await _run(browser, OfflineReasoner(), "Find the contact email", url=demo_site.url)
    assert outcome.state is AgentState.completed and outcome.success
    assert CONTACT_EMAIL in outcome.answer
    assert _types(steps) == ["goto", "click", "completion"]
    assert steps[1].state.relevant_interactions[0].reason == "Contact"
    assert all(s.started_at <= s.ended_at for s in steps)


async def test_offline_adds_a_product_to_the_cart_from_the_product_list(
    browser: BrowserSession, demo_site: DemoSite
) -> None:
    outcome, steps = await _run(
        browser, OfflineReasoner(), "Add an item to the cart", url=demo_site.page("products.html")
    )
    assert outcome.success, outcome.answer
    assert _types(steps) == ["goto", "click", "click", "completion"]
    cart = await browser.page.evaluate("localStorage.getItem('lantern-goods-cart')")
    assert cart is not None and '"qty":1' in cart


async def test_offline_extracts_a_table_as_markdown(browser: BrowserSession, demo_site: DemoSite) -> None:
    outcome, steps = await _run(
        browser, OfflineReasoner(), "Extract the product table", url=demo_site.page("products.html")
    )
    assert outcome.success, outcome.answer
    assert _types(steps) == ["goto", "scrape", "completion"]
    assert "Trail Headlamp 300" in outcome.answer and "LG-205" in outcome.answer


async def test_offline_fails_at_once_on_a_task_it_cannot_do(browser: BrowserSession) -> None:
    outcome, steps = await _run(browser, OfflineReasoner(), "Very complex task", max_steps=5)
    assert outcome.state is AgentState.failed and not outcome.success
    assert "LANTERNA_MODEL=" in outcome.answer and "OPENAI_API_KEY" in outcome.answer
    assert _types(steps) == ["completion"]


async def test_max_steps_ends_a_hopeless_search(browser: BrowserSession, demo_site: DemoSite) -> None:
    outcome, steps = await _run(
        browser, OfflineReasoner(), "Find the fax number", url=demo_site.url, max_steps=4
    )
    assert outcome.state is AgentState.max_steps and not outcome.success
    assert "max_steps=4" in outcome.answer
    assert len(steps) == 4 and steps[0].action.type == "goto"


# ----- termination rules ------------------------------------------------------------------------


async def test_three_failed_actions_in_a_row_end_the_run(browser: BrowserSession) -> None:
    script = [{"type": "click", "id": f"B{n}"} for n in (901, 902, 903, 904)]
    outcome, steps = await _run(browser, ScriptedReasoner(script), "click things")
    assert outcome.state is AgentState.failed
    assert "3 actions failed in a row" in outcome.answer and steps[-1].message in outcome.answer
    assert len(steps) == 3 and not any(s.success for s in steps)


async def test_the_same_action_on_an_unchanged_page_three_times_ends_the_run(browser: BrowserSession) -> None:
    outcome, steps = await _run(browser, ScriptedReasoner([{"type": "wait", "time_ms": 1}] * 5), "wait")
    assert outcome.state is AgentState.failed and "3 times on an unchanged page" in outcome.answer
    assert len(steps) == 3 and all(s.success for s in steps)


async def test_stop_lets_the_running_action_finish(browser: BrowserSession) -> None:
    stop = asyncio.Event()

    class StopDuringSecondAction(ScriptedReasoner):
        async def decide(self, input: ReasonerInput) -> Decision:
            decision = await super().decide(input)
            if len(self.inputs) == 2:  # the second action starts now and takes 301 ms
                asyncio.get_running_loop().call_later(0.1, stop.set)
            return decision

    script = [{"type": "wait", "time_ms": 300 + n} for n in range(20)]
    outcome, steps = await _run(browser, StopDuringSecondAction(script), "wait a lot", stop=stop)
    assert outcome.state is AgentState.stopped and not outcome.success
    assert len(steps) == 2 and all(s.success for s in steps)  # the second wait ran to its end
    assert (steps[1].ended_at - steps[1].started_at).total_seconds() >= 0.3


async def test_a_dead_session_ends_the_run_with_a_clear_error(
    session: BrowserSession, pool: BrowserPool
) -> None:
    async def kill_browser(step: AgentStep) -> None:
        await pool.release(session, "idle timeout")

    script = [{"type": "wait", "time_ms": 10 + n} for n in range(5)]
    outcome, steps = await _run(session, ScriptedReasoner(script), "wait", on_step=kill_browser)
    assert outcome.state is AgentState.failed
    assert outcome.answer == "session closed: idle timeout"
    assert len(steps) == 1


async def test_an_answer_must_match_the_response_format(browser: BrowserSession) -> None:
    schema = {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}}
    script = [
        {"type": "completion", "success": True, "answer": "hello@x.test"},
        {"type": "completion", "success": True, "answer": '{"email": 5}'},
        {"type": "completion", "success": True, "answer": '{"email": "hello@x.test"}'},
    ]
    reasoner = ScriptedReasoner(script)
    outcome, steps = await _run(browser, reasoner, "report the email", response_format=schema)
    assert outcome.success and outcome.answer == '{"email": "hello@x.test"}'
    assert [s.success for s in steps] == [False, False, True]
    assert "not JSON" in (reasoner.inputs[1].feedback or "")
    assert "email" in (reasoner.inputs[2].feedback or "") and "not of type 'string'" in steps[1].message
