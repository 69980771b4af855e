"""Sessions over real HTTP against ``lanterna serve``, real Chromium and the demo shop."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from playwright.async_api import async_playwright

from lanterna.demo.site import CONTACT_EMAIL
from tests.fixtures.server import LanternaServer

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def api_key(lanterna_server: LanternaServer) -> str:
    """A tenant of its own, so listings only show this module's sessions."""
    return lanterna_server.new_key("sessions-api")


@pytest.fixture
async def api(lanterna_server: LanternaServer, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=lanterna_server.url, headers=headers, timeout=60) as client:
        yield client


async def start(api: httpx.AsyncClient, **options: Any) -> str:
    response = await api.post("/sessions/start", json=options)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "active"
    session_id: str = body["session_id"]
    return session_id


async def execute(api: httpx.AsyncClient, session_id: str, action: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(f"/sessions/{session_id}/page/execute", json=action)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_session_observe_execute_scrape_and_stop(api: httpx.AsyncClient, demo_site: Any) -> None:
    session_id = await start(api, idle_timeout_minutes=5, max_duration_minutes=10)

    goto = await execute(api, session_id, {"type": "goto", "url": demo_site.page("index.html")})
    assert goto["success"] is True and goto["exception"] is None, goto

    observed = (await api.post(f"/sessions/{session_id}/page/observe", json={"max_nb_actions": 100})).json()
    assert observed["metadata"]["url"].endswith("/index.html")
    contact = next(e for e in observed["elements"] if e["role"] == "link" and e["name"] == "Contact")
    assert {"type": "click", "id": contact["id"]}.items() <= next(
        a for a in observed["space"]["interaction_actions"] if a["id"] == contact["id"]
    ).items()

    # The official client's shape: extra descriptive keys, an empty selector object beside the id.
    click = await execute(
        api,
        session_id,
        {"type": "click", "id": contact["id"], "category": "Interaction Actions", "timeout": 5000},
    )
    assert click["success"] is True, click
    scraped = (await api.post(f"/sessions/{session_id}/page/scrape", json={"only_main_content": True})).json()
    assert CONTACT_EMAIL in scraped["markdown"]

    missing = await execute(api, session_id, {"type": "click", "selector": "#no-such-button", "timeout": 300})
    assert missing["success"] is False and missing["exception"] and missing["message"]

    assert (await api.get(f"/sessions/{session_id}/offset")).json() == {"offset": 3}

    got = (await api.get(f"/sessions/{session_id}")).json()
    assert (
        got["status"] == "active" and got["idle_timeout_minutes"] == 5 and got["max_duration_minutes"] == 10
    )
    assert got["created_at"].endswith("Z") and got["last_accessed_at"] > got["created_at"]

    for path in ("/sessions/?only_active=True&page_size=10&page=1", "/sessions?only_active=true"):
        listed = (await api.get(path)).json()
        assert session_id in [s["session_id"] for s in listed["items"]], path

    stopped = await api.delete(f"/sessions/{session_id}/stop")
    assert stopped.status_code == 200 and stopped.json()["status"] == "closed"
    again = await api.delete(f"/sessions/{session_id}/stop")
    assert again.status_code == 200 and again.json()["status"] == "closed"
    got = (await api.get(f"/sessions/{session_id}")).json()
    assert got["status"] == "closed" and got["closed_at"] is not None and got["error"] is None

    active = (await api.get("/sessions/?only_active=True")).json()["items"]
    assert session_id not in [s["session_id"] for s in active]
    everything = (await api.get("/sessions?only_active=False&page_size=100")).json()
    assert session_id in [s["session_id"] for s in everything["items"]]


async def test_playwright_connects_over_the_cdp_url(api: httpx.AsyncClient, demo_site: Any) -> None:
    session_id = await start(
        api, viewport_width=900, viewport_height=700, user_agent="lanterna-test-agent/1.0"
    )
    await execute(api, session_id, {"type": "goto", "url": demo_site.page("contact.html")})

    debug = (await api.get(f"/sessions/{session_id}/debug")).json()
    assert set(debug["ws"]) == {"cdp", "recording", "logs"}
    cdp_url = debug["ws"]["cdp"]
    assert cdp_url.startswith("ws://127.0.0.1:") and f"/sessions/{session_id}/cdp?token=" in cdp_url

    async with async_playwright() as pw:
        browser = await pw.chromium.connect_over_cdp(cdp_url)
        page = browser.contexts[0].pages[0]
        assert CONTACT_EMAIL in await page.inner_text("body")
        assert await page.evaluate("navigator.userAgent") == "lanterna-test-agent/1.0"
        assert await page.evaluate("[innerWidth, innerHeight]") == [900, 700]
        await page.goto(demo_site.page("about.html"))
        await browser.close()  # disconnects this client only; the session's browser keeps running

    observed = (await api.post(f"/sessions/{session_id}/page/observe", json={})).json()
    assert observed["metadata"]["url"].endswith("/about.html")

    tab = (await api.get(f"/sessions/{session_id}/debug/tab", params={"tab_idx": 0})).json()
    assert tab["metadata"]["url"].endswith("/about.html")
    async with websockets.connect(tab["ws_url"]) as page_socket:
        await page_socket.send(
            json.dumps({"id": 1, "method": "Runtime.evaluate", "params": {"expression": "1+1"}})
        )
        reply = json.loads(await page_socket.recv())
    assert reply["result"]["result"]["value"] == 2
    with pytest.raises(websockets.InvalidStatus) as no_target:
        await websockets.connect(
            tab["ws_url"].replace(tab["ws_url"].split("/")[-1].split("?")[0], "0BADC0DE")
        )
    assert no_target.value.response.status_code == 404
    missing_tab = await api.get(f"/sessions/{session_id}/debug/tab", params={"tab_idx": 5})
    assert missing_tab.status_code == 404 and "has 1 tab" in missing_tab.json()["message"]

    await api.delete(f"/sessions/{session_id}/stop")
    with pytest.raises(websockets.InvalidStatus) as closed:
        await websockets.connect(cdp_url)
    assert closed.value.response.status_code == 409


async def test_cookies_round_trip(api: httpx.AsyncClient, demo_site: Any) -> None:
    session_id = await start(api)
    await execute(api, session_id, {"type": "goto", "url": demo_site.page("index.html")})
    cookie = {
        "name": "flavour",
        "value": "oat",
        "domain": "127.0.0.1",
        "path": "/",
        "httpOnly": False,
        "sameSite": "Lax",
        "expirationDate": 4102444800,
    }
    answer = await api.post(f"/sessions/{session_id}/cookies", json={"cookies": [cookie]})
    assert answer.status_code == 200 and answer.json()["success"] is True
    cookies = (await api.get(f"/sessions/{session_id}/cookies")).json()["cookies"]
    mine = next(c for c in cookies if c["name"] == "flavour")
    assert (mine["value"], mine["domain"], mine["httpOnly"], mine["session"]) == (
        "oat",
        "127.0.0.1",
        False,
        False,
    )
    await api.delete(f"/sessions/{session_id}/stop")


async def test_another_key_gets_404_over_http_websocket_and_cdp(
    api: httpx.AsyncClient, lanterna_server: LanternaServer, demo_site: Any
) -> None:
    session_id = await start(api)
    await execute(api, session_id, {"type": "goto", "url": demo_site.page("index.html")})
    agent = await api.post(
        "/agents/start", json={"task": "Find the contact email", "session_id": session_id, "max_steps": 3}
    )
    assert agent.status_code == 200, agent.text
    agent_id = agent.json()["agent_id"]

    other_key = lanterna_server.new_key("tenant-b")
    other = {"Authorization": f"Bearer {other_key}"}
    async with httpx.AsyncClient(base_url=lanterna_server.url, headers=other, timeout=30) as intruder:
        for method, path in [
            ("GET", f"/sessions/{session_id}"),
            ("GET", f"/sessions/{session_id}/offset"),
            ("GET", f"/sessions/{session_id}/debug"),
            ("GET", f"/sessions/{session_id}/cookies"),
            ("POST", f"/sessions/{session_id}/page/observe"),
            ("POST", f"/sessions/{session_id}/page/scrape"),
            ("DELETE", f"/sessions/{session_id}/stop"),
            ("GET", f"/agents/{agent_id}"),
            ("DELETE", f"/agents/{agent_id}/stop"),
        ]:
            response = await intruder.request(method, path, json={} if method == "POST" else None)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["status"] == 404 and "not found" in response.json()["message"]
        hidden = await intruder.post(f"/sessions/{session_id}/page/execute", json={"type": "reload"})
        assert hidden.status_code == 404
        assert session_id not in [s["session_id"] for s in (await intruder.get("/sessions/")).json()["items"]]

    ws_base = lanterna_server.url.replace("http://", "ws://")
    for url in (
        f"{ws_base}/sessions/{session_id}/cdp?token={other_key}",
        f"{ws_base}/agents/{agent_id}/debug/logs?token={other_key}&session_id={session_id}",
    ):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(url)
        assert refused.value.response.status_code == 404, url

    # Nothing the other key tried touched the session.
    assert (await api.get(f"/sessions/{session_id}")).json()["status"] == "active"
    await api.delete(f"/agents/{agent_id}/stop")
    await api.delete(f"/sessions/{session_id}/stop")


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status", "message"} and body["status"] == status, body
    message: str = body["message"]
    return message


async def test_client_mistakes_get_4xx_with_a_message_saying_what_to_change(
    api: httpx.AsyncClient, lanterna_server: LanternaServer
) -> None:
    url = lanterna_server.url
    async with httpx.AsyncClient(base_url=url, timeout=30) as anonymous:
        assert "Authorization: Bearer" in _error(await anonymous.get("/sessions"), 401)
        bad = await anonymous.get("/sessions", headers={"Authorization": "Bearer lt_not_a_key"})
        assert "invalid or revoked API key" in _error(bad, 401)
        assert bad.headers["www-authenticate"] == "Bearer"
        assert "GET /nowhere" in _error(await anonymous.get("/nowhere"), 404)
        assert (await anonymous.get(f"{url}//health")).status_code == 200  # a base URL ending in '/'
        assert (await anonymous.get("/openapi.json")).json()["paths"]["/sessions/start"]
        assert (await anonymous.get("/docs")).status_code == 200

    revoked_key = lanterna_server.new_key("revoked")
    lanterna_server.cli("keys", "revoke", revoked_key[:11])  # by prefix, as `keys list` shows it
    revoked = await api.get("/sessions", headers={"Authorization": f"Bearer {revoked_key}"})
    assert "revoked" in _error(revoked, 401)

    assert "not found" in _error(await api.get("/sessions/6d0d5a58-0000-4000-8000-000000000000"), 404)

    unknown = await api.post("/sessions/start", json={"headless": True, "stealth": True})
    assert "'stealth'" in _error(unknown, 422)
    unsupported = await api.post("/sessions/start", json={"headless": False, "solve_captchas": True})
    message = _error(unsupported, 422)
    assert "headless=false" in message and "solve_captchas" in message
    too_long = await api.post("/sessions/start", json={"idle_timeout_minutes": 10, "max_duration_minutes": 5})
    assert "idle_timeout_minutes" in _error(too_long, 422)
    not_json = await api.post(
        "/sessions/start", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in _error(not_json, 422)
    assert "'page'" in _error(await api.get("/sessions?page=0"), 422)

    session_id = await start(api)
    execute_path = f"/sessions/{session_id}/page/execute"
    message = _error(await api.post(execute_path, json={"type": "teleport", "to": "mars"}), 422)
    assert "'teleport'" in message and "click" in message and "goto" in message
    assert "needs an element" in _error(await api.post(execute_path, json={"type": "click"}), 422)
    assert "'time_ms'" in _error(await api.post(execute_path, json={"type": "wait", "time_ms": 60000}), 422)
    assert "'value'" in _error(await api.post(execute_path, json={"type": "fill", "selector": "#q"}), 422)

    await api.delete(f"/sessions/{session_id}/stop")
    for path, body in [
        ("page/observe", {}),
        ("page/scrape", {}),
        ("page/execute", {"type": "reload"}),
    ]:
        closed = await api.post(f"/sessions/{session_id}/{path}", json=body)
        assert _error(closed, 409) == f"session {session_id} is closed (stopped); start a new session"
    replay = await api.get(f"/sessions/{session_id}/replay")  # it showed only a blank tab, briefly
    if replay.status_code == 200:
        assert replay.headers["content-type"] == "video/mp4"
    else:
        assert "recorded no frames" in _error(replay, 404)
