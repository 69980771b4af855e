"""Structured scrape and observe ranking through notte-sdk 1.8.6 with an LLM configured on the server.

The server's model is the local OpenAI-compatible stub; each test queues the stub's replies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.fixtures.engine import StaticSite
from tests.fixtures.llm import ChatStub
from tests.fixtures.sdk import NotteRunner
from tests.fixtures.server import LanternaServer, launch_server

pytestmark = pytest.mark.timeout(240)

NESTED_SCRIPT = """
from pydantic import BaseModel
from notte_sdk import NotteClient

class Seller(BaseModel):
    email: str
    phone: str | None = None

class Stockist(BaseModel):
    shop: str
    city: str

class Listing(BaseModel):
    name: str
    seller: Seller
    stockists: list[Stockist]

client = NotteClient()
out = {{}}
with client.Session() as session:
    session.execute(type="goto", url={url!r})
    out["first"] = session.scrape(response_format=Listing, instructions="the listing").model_dump()
    out["repaired"] = session.scrape(response_format=Listing).model_dump()
    ranked = session.observe(instructions="who sells it", max_nb_actions=1)
    out["ranked"] = [a.id for a in ranked]
emit(out)
"""

LISTING = {
    "name": "Storm Lantern",
    "seller": {"email": "sales@lantern.example", "phone": "+1 555 010 2030"},
    "stockists": [{"shop": "Harbour Lights", "city": "Bristol"}, {"shop": "North Star", "city": "Leeds"}],
}


@pytest.fixture(scope="module")
def llm_lanterna(llm_server: ChatStub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanternaServer]:
    env = {"LANTERNA_MODEL_OVERRIDE": "openai/stub-model", "LANTERNA_LLM_BASE_URL": llm_server.base_url}
    with launch_server(tmp_path_factory.mktemp("lanterna-llm"), extra_env=env) as server:
        yield server


def test_nested_model_and_a_repaired_reply_through_notte(
    llm_lanterna: LanternaServer, llm_stub: ChatStub, static_site: StaticSite
) -> None:
    llm_stub.reply(LISTING)
    # Single quotes, a trailing comma and a missing closing brace: repaired, not re-asked.
    llm_stub.reply("```json\n" + json.dumps(LISTING).replace('"', "'")[:-1] + ",\n```")
    llm_stub.reply({"ids": ["L1"]})
    runner = NotteRunner(server_url=llm_lanterna.url, api_key=llm_lanterna.api_key)
    out = runner.run(NESTED_SCRIPT.format(url=static_site.page("spec-sheet.html")))
    assert out["first"] == LISTING
    assert out["repaired"] == LISTING
    assert len(llm_stub.requests) == 3, "the malformed reply was repaired without a re-ask"
    prompt = llm_stub.prompt_text(0)
    assert "Harbour Lights" in prompt and '"stockists"' in prompt and "the listing" in prompt
    assert "who sells it" in llm_stub.prompt_text(2)
    assert out["ranked"] == ["L1"]


async def test_a_scrape_action_over_http_uses_the_configured_llm(
    llm_lanterna: LanternaServer, llm_stub: ChatStub, static_site: StaticSite
) -> None:
    import httpx

    from tests.fixtures.server import started_session

    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    async with (
        httpx.AsyncClient(base_url=llm_lanterna.url, headers=llm_lanterna.headers, timeout=60) as api,
        started_session(api) as session_id,
    ):
        url = f"/sessions/{session_id}/page/execute"
        goto = await api.post(url, json={"type": "goto", "url": static_site.page("spec-sheet.html")})
        assert goto.status_code == 200
        llm_stub.reply({"name": "Storm Lantern"})
        result = (await api.post(url, json={"type": "scrape", "response_format": schema})).json()
    assert result["success"] is True
    assert result["data"]["structured"] == {"success": True, "error": None, "data": {"name": "Storm Lantern"}}
    assert "Storm Lantern" in llm_stub.prompt_text(0)
