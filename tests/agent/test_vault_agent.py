"""An LLM-driven agent (scripted chat server over HTTP) logs in with a vault in a real Chromium:
the model sees placeholders only, the page gets the real values, the steps keep placeholders."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pyotp

from lanterna.agent.loop import AgentTask, run_agent
from lanterna.browser import BrowserSession
from lanterna.config import Settings
from lanterna.models.agent import AgentStep
from lanterna.models.vault import AgentVault, Credentials
from lanterna.reasoners.llm import LlmReasoner
from tests.fixtures.llm import ChatStub

PASSWORD = "Llm-Vault-Pa55-77Q"
USERNAME = "llm-user-5521"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXR"
STATE = {"previous_goal_status": "success", "memory": "", "next_goal": "sign in"}


async def test_llm_agent_logs_in_with_placeholders_only(
    session: BrowserSession, static_site: Any, llm_stub: ChatStub
) -> None:
    for action in [
        {"type": "fill", "selector": "#user", "value": "[[vault:username]]"},
        {"type": "fill", "selector": "#pass", "value": "[[vault:password]]"},
        {"type": "multi_factor_fill", "selector": "#otp", "value": "[[vault:mfa_secret]]"},
        {"type": "click", "selector": "button[type=submit]"},
        {"type": "completion", "success": True, "answer": "signed in as [[vault:username]]"},
    ]:
        llm_stub.reply({"state": STATE, "action": action})
    vault = AgentVault(
        vault_id="vault_test",
        credentials={"127.0.0.1": Credentials(username=USERNAME, password=PASSWORD, mfa_secret=TOTP_SECRET)},
    )
    steps: list[AgentStep] = []

    async def on_step(step: AgentStep) -> None:
        steps.append(step)

    reasoner = LlmReasoner("openai/stub-model", Settings(llm_base_url=llm_stub.base_url))
    task = AgentTask(task="Sign in", url=static_site.page("login.html"), max_steps=8)
    outcome = await asyncio.wait_for(
        run_agent(session, reasoner, task, on_step=on_step, stop=asyncio.Event(), vault=vault), 60
    )

    assert outcome.success, outcome.answer
    submitted = await session.page.evaluate("window.submitted")
    assert submitted["username"] == USERNAME and submitted["password"] == PASSWORD
    totp = pyotp.TOTP(TOTP_SECRET)
    assert submitted["otp"] in {totp.at(time.time() + d) for d in (-30, 0)}, "the current TOTP was typed"
    assert "[[vault:password]]" in llm_stub.prompt_text(0)
    recorded = [s.model_dump_json() for s in steps] + [outcome.model_dump_json()]
    prompts = [llm_stub.prompt_text(i) for i in range(len(llm_stub.requests))]
    for text in recorded + prompts:
        for secret in (PASSWORD, USERNAME, TOTP_SECRET, submitted["otp"]):
            assert secret not in text
    assert "[[vault:password]]" in recorded[2]  # the step keeps the placeholder
