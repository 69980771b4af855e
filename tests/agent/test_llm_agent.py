"""A whole agent run driven by the LLM reasoner (scripted chat server over HTTP) in a real Chromium."""

from __future__ import annotations

import asyncio

import pytest

from lanterna.agent.loop import AgentTask, run_agent
from lanterna.browser import BrowserSession
from lanterna.config import Settings
from lanterna.demo.site import CONTACT_EMAIL, DemoSite
from lanterna.models.agent import AgentState, AgentStep
from lanterna.reasoners.llm import LlmReasoner
from tests.fixtures.llm import ChatStub


def _state(goal: str) -> dict[str, object]:
    return {
        "previous_goal_status": "success",
        "previous_goal_eval": "",
        "page_summary": "",
        "relevant_interactions": [],
        "memory": "",
        "next_goal": goal,
    }


async def test_llm_agent_finds_the_email(
    session: BrowserSession, demo_site: DemoSite, llm_stub: ChatStub
) -> None:
    llm_stub.reply(
        {"state": _state("open contact"), "action": {"type": "click", "selector": "nav >> text=Contact"}}
    )
    llm_stub.reply(
        "```json\n"
        + '{"state": {"memory": "email found"}, "action": {"type": "completion", "success": true, '
        + f'"answer": "{CONTACT_EMAIL}"}}}}\n```'
    )
    reasoner = LlmReasoner("openai/stub-model", Settings(llm_base_url=llm_stub.base_url))
    steps: list[AgentStep] = []

    async def on_step(step: AgentStep) -> None:
        steps.append(step)

    task = AgentTask(task="Find the contact email", url=demo_site.url, max_steps=5)
    outcome = await asyncio.wait_for(
        run_agent(session, reasoner, task, on_step=on_step, stop=asyncio.Event()), 60
    )

    assert outcome.success and outcome.answer == CONTACT_EMAIL
    assert [s.action.type for s in steps] == ["goto", "click", "completion"] and all(s.success for s in steps)
    assert steps[1].state.next_goal == "open contact"
    assert session.page.url.endswith("/contact.html")
    second_prompt = llm_stub.prompt_text(1)
    assert CONTACT_EMAIL in second_prompt  # the model was shown the page the click led to
    assert '"type":"click"' in second_prompt and "-> ok" in second_prompt  # and the history


async def test_a_missing_api_key_fails_the_run_with_its_name(
    session: BrowserSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("LANTERNA_LLM_API_KEY", raising=False)
    reasoner = LlmReasoner("openai/gpt-4o-mini", Settings(llm_base_url=None))

    async def on_step(step: AgentStep) -> None:
        pass

    outcome = await run_agent(
        session, reasoner, AgentTask(task="anything"), on_step=on_step, stop=asyncio.Event()
    )
    assert outcome.state is AgentState.failed and not outcome.success
    assert "OPENAI_API_KEY" in outcome.answer and outcome.answer.startswith("the reasoner failed")
