"""The LLM reasoner against a scripted OpenAI-compatible server over HTTP on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lanterna.config import Settings
from lanterna.errors import InvalidRequestError
from lanterna.models.actions import Click, Completion
from lanterna.models.observation import InteractiveElement, Observation, PageMetadata
from lanterna.reasoners.base import ReasonerError, ReasonerInput
from lanterna.reasoners.llm import LlmReasoner
from lanterna.reasoners.registry import create_reasoner
from tests.fixtures.llm import ChatStub

STATE = {
    "previous_goal_status": "unknown",
    "previous_goal_eval": "",
    "page_summary": "contact page",
    "relevant_interactions": [],
    "memory": "",
    "next_goal": "open the contact form",
}


def _input() -> ReasonerInput:
    now = datetime.now(UTC)
    observation = Observation(
        metadata=PageMetadata(title="Contact", url="http://127.0.0.1/contact.html", timestamp=now),
        elements=[InteractiveElement(id="B1", role="button", name="Send message", ref="e5")],
        text='- heading "Contact us"\n- [B1] button "Send message"',
        started_at=now,
        ended_at=now,
    )
    return ReasonerInput(task="send the message", step=1, max_steps=5, observation=observation)


@pytest.fixture
def reasoner(llm_stub: ChatStub) -> LlmReasoner:
    return LlmReasoner("openai/stub-model", Settings(llm_base_url=llm_stub.base_url))


async def test_prompt_carries_task_page_and_action_schema(llm_stub: ChatStub, reasoner: LlmReasoner) -> None:
    llm_stub.reply({"state": STATE, "action": {"type": "click", "id": "B1"}})
    decision = await reasoner.decide(_input())
    assert decision.action == Click(id="B1")
    assert decision.state.next_goal == "open the contact form"
    request = llm_stub.requests[0]
    assert request["model"] == "stub-model"
    prompt = llm_stub.prompt_text(0)
    assert "send the message" in prompt and "Step 1 of at most 5" in prompt
    assert 'button "Send message"' in prompt
    assert '"select_dropdown_option"' in prompt  # the action vocabulary is in the prompt


async def test_json_in_prose_and_fences_is_repaired(llm_stub: ChatStub, reasoner: LlmReasoner) -> None:
    llm_stub.reply(
        'Here is my decision:\n```json\n{"state": {"next_goal": "finish"}, '
        '"action": {"type": "completion", "success": true, "answer": "done"}}\n```\nHope it helps!'
    )
    decision = await reasoner.decide(_input())
    assert decision.action == Completion(success=True, answer="done")
    assert len(llm_stub.requests) == 1


async def test_unusable_output_is_retried_with_the_error(llm_stub: ChatStub, reasoner: LlmReasoner) -> None:
    llm_stub.reply("I would click the button.")
    llm_stub.reply({"state": STATE, "action": {"type": "fly", "to": "moon"}})
    llm_stub.reply({"state": STATE, "action": {"type": "click", "id": "B1"}})
    decision = await reasoner.decide(_input())
    assert decision.action == Click(id="B1")
    assert len(llm_stub.requests) == 3
    assert "no JSON object" in llm_stub.prompt_text(1)
    assert "fly" in llm_stub.prompt_text(2)


async def test_output_retries_are_bounded(llm_stub: ChatStub, reasoner: LlmReasoner) -> None:
    for _ in range(3):
        llm_stub.reply("no idea")
    with pytest.raises(ReasonerError, match="no usable action after 3 attempts"):
        await reasoner.decide(_input())
    assert len(llm_stub.requests) == 3


async def test_unknown_element_id_is_sent_back_and_recovered(
    llm_stub: ChatStub, reasoner: LlmReasoner
) -> None:
    llm_stub.reply({"state": STATE, "action": {"type": "click", "id": "B99"}})
    llm_stub.reply({"state": STATE, "action": {"type": "click", "id": "B1"}})
    decision = await reasoner.decide(_input())
    assert decision.action == Click(id="B1")
    assert "no element with id 'B99'" in llm_stub.prompt_text(1)
    assert "B1" in llm_stub.prompt_text(1)


async def test_rate_limit_then_success(llm_stub: ChatStub, reasoner: LlmReasoner) -> None:
    llm_stub.fail(429, "slow down", retry_after="0")
    llm_stub.fail(503, "overloaded")
    llm_stub.reply({"state": STATE, "action": {"type": "click", "id": "B1"}})
    decision = await reasoner.decide(_input())
    assert decision.action == Click(id="B1")
    assert len(llm_stub.requests) == 3


async def test_provider_refusal_is_a_clear_error(llm_stub: ChatStub, reasoner: LlmReasoner) -> None:
    llm_stub.fail(401, "invalid api key")
    with pytest.raises(ReasonerError, match=r"refused the API key \(HTTP 401\)"):
        await reasoner.decide(_input())
    assert len(llm_stub.requests) == 1  # not retried


async def test_missing_api_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("LANTERNA_LLM_API_KEY", raising=False)
    reasoner = create_reasoner("gemini/gemini-2.5-flash", Settings(llm_base_url=None))
    with pytest.raises(ReasonerError, match="set GEMINI_API_KEY"):
        await reasoner.decide(_input())


def test_model_strings() -> None:
    settings = Settings(llm_base_url=None)
    with pytest.raises(InvalidRequestError, match="unknown model provider 'acme'"):
        create_reasoner("acme/big", settings)
    with pytest.raises(InvalidRequestError, match="unknown model 'gpt4'"):
        create_reasoner("gpt4", settings)
    overridden = create_reasoner("gemini/gemini-2.5-flash", Settings(model_override="offline"))
    assert type(overridden).__name__ == "OfflineReasoner"


async def test_keys_come_from_settings_and_reach_only_the_endpoint(llm_stub: ChatStub) -> None:
    settings = Settings(llm_base_url=llm_stub.base_url, llm_api_key="sk-lanterna-test")
    assert "sk-lanterna-test" not in repr(settings) and "sk-lanterna-test" not in str(settings.model_dump())
    llm_stub.reply({"state": STATE, "action": {"type": "click", "id": "B1"}})
    await LlmReasoner("openai/stub-model", settings).decide(_input())
    assert llm_stub.headers[0]["authorization"] == "Bearer sk-lanterna-test"


def test_provider_keys_are_read_by_their_usual_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from lanterna.reasoners.providers import resolve_endpoint

    monkeypatch.setenv("GROQ_API_KEY", "gsk-from-env")
    endpoint = resolve_endpoint("groq/llama-3.1-8b-instant", Settings(llm_base_url=None))
    assert endpoint.api_key is not None and endpoint.api_key.get_secret_value() == "gsk-from-env"
    assert endpoint.base_url.startswith("https://api.groq.com/") and endpoint.model == "llama-3.1-8b-instant"
    assert "gsk-from-env" not in repr(endpoint)
