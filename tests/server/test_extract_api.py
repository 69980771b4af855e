"""Structured scrape and observe options over HTTP, and the limits hostile input meets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.fixtures.engine import StaticSite
from tests.fixtures.server import LanternaServer, started_session

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
async def api(lanterna_server: LanternaServer) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {lanterna_server.new_key('extract-api')}"}
    async with httpx.AsyncClient(base_url=lanterna_server.url, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture
async def sheet(api: httpx.AsyncClient, static_site: StaticSite) -> AsyncIterator[str]:
    async with started_session(api) as session_id:
        goto = {"type": "goto", "url": static_site.page("spec-sheet.html")}
        assert (await api.post(f"/sessions/{session_id}/page/execute", json=goto)).status_code == 200
        yield session_id


def _nested(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


async def test_structured_scrape_over_http(api: httpx.AsyncClient, sheet: str) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"type": "number"}, "phone": {"type": "string"}},
        "required": ["name", "price", "phone"],
    }
    response = await api.post(f"/sessions/{sheet}/page/scrape", json={"response_format": schema})
    assert response.status_code == 200, response.text
    structured = response.json()["structured"]
    assert structured == {
        "success": True,
        "error": None,
        "data": {"name": "Storm Lantern", "price": 24.5, "phone": "+1 555 010 2030"},
    }


async def test_hostile_schemas_and_instructions_get_4xx_naming_the_limit(
    api: httpx.AsyncClient, sheet: str
) -> None:
    url = f"/sessions/{sheet}/page/scrape"
    deep = await api.post(url, json={"response_format": _nested(40)})
    assert deep.status_code == 422 and "deeper than 12 levels" in deep.text
    wide = {"type": "object", "properties": {f"f{i}": {"type": "string"} for i in range(1500)}}
    big = await api.post(url, json={"response_format": wide})
    assert big.status_code == 422 and "more than 2000 nodes" in big.text
    long = await api.post(url, json={"instructions": "x" * 10_001})
    assert long.status_code == 422 and "10000" in long.text
    observe = await api.post(f"/sessions/{sheet}/page/observe", json={"instructions": "y" * 10_001})
    assert observe.status_code == 422
    as_action = await api.post(
        f"/sessions/{sheet}/page/execute", json={"type": "scrape", "response_format": _nested(40)}
    )
    assert as_action.status_code == 422 and "deeper than 12 levels" in as_action.text
    # A schema that is valid JSON but not a schema of anything useful still gets an answer, not a 500.
    odd = await api.post(url, json={"response_format": {"type": "object", "properties": {"a": 3, "b": [1]}}})
    assert odd.status_code == 200, odd.text


async def test_observe_ranks_and_limits_over_http(api: httpx.AsyncClient, sheet: str) -> None:
    url = f"/sessions/{sheet}/page/observe"
    full = (await api.post(url, json={})).json()
    assert full["screenshot"], "observe sends a screenshot unless told not to"
    assert (await api.post(url, json={"screenshot": False})).json()["screenshot"] == ""
    limited = (await api.post(url, json={"max_nb_actions": 0})).json()
    assert limited["elements"] == [] and limited["space"]["interaction_actions"] == []
    result = (
        await api.post(f"/sessions/{sheet}/page/execute", json={"type": "evaluate_js", "code": "[1, 2]"})
    ).json()
    assert result["data"]["structured"]["data"] == {"result": [1, 2]}
