"""The hostile-tenant attacks of the public API, over real HTTP against ``lanterna serve``.

Each goes the way a tenant with a key would: ``execute`` then ``scrape``, a new tab, an agent
told to start on a host file, the server's own port. (Link-local and private addresses are
attacked in ``test_egress_netns.py``, inside a namespace where nothing can leave the machine.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.server import LanternaServer, started_session

pytestmark = pytest.mark.timeout(180)

PASSWD_MARK = "root:x:0:0"  # the first line of every /etc/passwd


@pytest.fixture
async def api(lanterna_server: LanternaServer) -> AsyncIterator[httpx.AsyncClient]:
    async with lanterna_server.client(lanterna_server.new_key("hostile")) as client:
        yield client


@pytest.fixture
async def session_id(api: httpx.AsyncClient) -> AsyncIterator[str]:
    async with started_session(api) as sid:
        yield sid


async def _execute(api: httpx.AsyncClient, session_id: str, **action: Any) -> dict[str, Any]:
    response = await api.post(f"/sessions/{session_id}/page/execute", json=action)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _page_text(api: httpx.AsyncClient, session_id: str) -> str:
    response = await api.post(f"/sessions/{session_id}/page/scrape", json={})
    assert response.status_code == 200, response.text
    return str(response.json())


@pytest.mark.parametrize(
    "action",
    [
        {"type": "goto", "url": "file:///etc/passwd"},
        {"type": "goto", "url": "FILE:///etc/passwd"},
        {"type": "goto", "url": " file:/etc/passwd"},
        {"type": "goto_new_tab", "url": "file:///etc/passwd"},
        {"type": "goto", "url": "view-source:file:///etc/passwd"},
        {"type": "goto", "url": "chrome://version"},
        {"type": "goto", "url": "chrome://settings"},
        {"type": "goto", "url": "about:version"},
    ],
)
async def test_host_files_and_browser_pages_stay_closed(
    api: httpx.AsyncClient, session_id: str, action: dict[str, str]
) -> None:
    result = await _execute(api, session_id, **action)
    assert not result["success"]
    assert "egress policy refused" in result["message"] and "scheme" in result["message"], result
    text = await _page_text(api, session_id)
    assert PASSWD_MARK not in text and "Chromium" not in text


async def test_an_agent_told_to_read_a_host_file_gets_nothing(
    api: httpx.AsyncClient, session_id: str
) -> None:
    assert PASSWD_MARK in Path("/etc/passwd").read_text()
    response = await api.post(
        "/agents/start",
        json={"task": "Extract the page text", "session_id": session_id, "url": "file:///etc/passwd"},
    )
    assert response.status_code == 200, response.text
    agent_id = response.json()["agent_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = (await api.get(f"/agents/{agent_id}")).json()
        if status["status"] == "closed":
            break
        await asyncio.sleep(0.2)
    assert status["status"] == "closed"
    assert PASSWD_MARK not in str(status)
    assert status["success"] is not True
    assert "egress policy refused" in str(status["steps"]) or "egress policy refused" in str(status["answer"])


async def test_the_servers_own_api_is_refused_but_its_demo_shop_is_not(
    lanterna_server: LanternaServer, api: httpx.AsyncClient, session_id: str
) -> None:
    own = await _execute(api, session_id, type="goto", url=f"{lanterna_server.url}/sessions")
    assert not own["success"] and "protected-port" in own["message"]
    # The demo shop the server hosts stays reachable: it is the one page of its port tenants may load.
    shop = await _execute(api, session_id, type="goto", url=f"{lanterna_server.url}/demo/")
    assert shop["success"], shop


async def test_a_refused_subresource_is_logged_to_the_session(
    lanterna_server: LanternaServer, api: httpx.AsyncClient, session_id: str
) -> None:
    probe = f"{lanterna_server.url}/health?from-a-page"
    page = f'data:text/html,<img src="{probe}"><script>fetch("{probe}").catch(() => 0)</script>'
    assert (await _execute(api, session_id, type="goto", url=page))["success"]
    deadline = time.monotonic() + 10
    refused: list[dict[str, str]] = []
    while not refused and time.monotonic() < deadline:
        log = await api.get(f"/sessions/{session_id}/egress")
        assert log.status_code == 200, log.text
        refused = [r for r in log.json()["refused"] if r["target"].endswith(f":{lanterna_server.port}")]
        await asyncio.sleep(0.1)
    assert refused and refused[0]["rule"] == "protected-port"
    assert "always denied" in refused[0]["message"]
