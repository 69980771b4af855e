"""The agent endpoints of a real ``lanterna serve``: REST, log WebSocket, one agent per session, tenants."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from lanterna.demo.site import CONTACT_EMAIL, DemoSite
from tests.fixtures.server import LanternaServer, started_session


def _waits(count: int, ms: int = 200) -> str:
    """A scripted model: ``count`` distinct waits, then completion."""
    return "scripted:" + json.dumps([{"type": "wait", "time_ms": ms + n} for n in range(count)])


@pytest.fixture
async def api(lanterna_server: LanternaServer) -> AsyncIterator[httpx.AsyncClient]:
    async with lanterna_server.client() as client:
        yield client


@pytest.fixture
async def session_id(api: httpx.AsyncClient) -> AsyncIterator[str]:
    async with started_session(api) as sid:
        yield sid


async def _start(api: httpx.AsyncClient, session_id: str, task: str, **fields: Any) -> dict[str, Any]:
    response = await api.post("/agents/start", json={"task": task, "session_id": session_id, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _wait_closed(api: httpx.AsyncClient, agent_id: str, timeout: float = 45) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: dict[str, Any] = (
            await api.get(f"/agents/{agent_id}", params={"agent_id": agent_id, "replay": "False"})
        ).json()
        if status["status"] == "closed":
            return status
        await asyncio.sleep(0.2)
    raise AssertionError(f"agent {agent_id} still running after {timeout} s")


def _ws_url(server: LanternaServer, agent_id: str, session_id: str, key: str | None = None) -> str:
    base = server.url.replace("http://", "ws://")
    return f"{base}/agents/{agent_id}/debug/logs?token={key or server.api_key}&session_id={session_id}"


async def _read_stream(url: str) -> list[dict[str, Any]]:
    """Every message until the server closes the socket."""
    messages = []
    async with websockets.connect(url, open_timeout=10) as ws:
        async for frame in ws:
            assert isinstance(frame, str)
            messages.append(json.loads(frame))
    return messages


async def _first_step(url: str) -> dict[str, Any]:
    """The first step the log stream sends (waits for the agent to take one)."""
    async with websockets.connect(url, open_timeout=10) as ws:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
    assert "action" in message, message  # a step, not the end of the run
    return dict(message)


async def test_agent_run_over_rest(api: httpx.AsyncClient, session_id: str, demo_site: DemoSite) -> None:
    started = await _start(
        api,
        session_id,
        "Find the contact email",
        url=demo_site.url,
        reasoning_model="gemini/gemini-2.5-flash",
    )
    assert started["status"] == "active" and started["state"] == "running" and started["success"] is None
    agent_id = started["agent_id"]

    final = await _wait_closed(api, agent_id)
    assert final["success"] is True and final["state"] == "completed" and CONTACT_EMAIL in final["answer"]
    assert final["reasoning_model"] == "offline"  # the server maps every model to its configured one
    assert [s["action"]["type"] for s in final["steps"]] == ["goto", "click", "completion"]
    step = final["steps"][1]
    assert set(step["state"]) >= {"previous_goal_status", "page_summary", "memory", "next_goal"}
    assert step["success"] is True and step["message"] and step["started_at"] and step["ended_at"]
    offset = (await api.get(f"/sessions/{session_id}/offset")).json()["offset"]
    assert final["replay_stop_offset"] == offset == final["replay_start_offset"] + 3

    stopped_again = (await api.delete(f"/agents/{agent_id}/stop", params={"session_id": session_id})).json()
    assert stopped_again["status"] == "closed" and stopped_again["answer"] == final["answer"]
    assert len(stopped_again["steps"]) == 3

    active = (await api.get("/agents/", params={"only_active": "True", "page_size": 10, "page": 1})).json()
    assert agent_id not in [a["agent_id"] for a in active["items"]]
    listed = (await api.get("/agents", params={"only_active": "false", "only_saved": "False"})).json()
    assert agent_id in [a["agent_id"] for a in listed["items"]]

    code = (await api.get(f"/agents/{agent_id}/workflow/code", params={"as_workflow": "True"})).json()
    assert [a["type"] for a in code["json_actions"]] == ["goto", "click"]
    assert f"session.execute(type='goto', url='{demo_site.url}')" in code["python_script"]
    replay = await api.get(f"/agents/{agent_id}/replay")
    assert replay.status_code == 200 and replay.headers["content-type"] == "video/mp4"


async def test_log_stream_sends_steps_then_the_final_status(
    api: httpx.AsyncClient, session_id: str, lanterna_server: LanternaServer
) -> None:
    agent_id = (await _start(api, session_id, "wait a little", reasoning_model=_waits(3, 150)))["agent_id"]
    live = await _read_stream(_ws_url(lanterna_server, agent_id, session_id))
    assert [m["action"]["type"] for m in live[:-1]] == ["wait", "wait", "wait", "completion"]
    assert live[-1]["status"] == "agent_stop"
    agent = live[-1]["agent"]
    assert agent["status"] == "closed" and agent["success"] is True and len(agent["steps"]) == 4

    late = await _read_stream(_ws_url(lanterna_server, agent_id, session_id))
    assert late == live  # a late subscriber gets everything, then the end


async def test_one_agent_per_session_and_stop(
    api: httpx.AsyncClient, session_id: str, lanterna_server: LanternaServer
) -> None:
    first = await _start(api, session_id, "wait a lot", reasoning_model=_waits(40))
    second = await api.post("/agents/start", json={"task": "another", "session_id": session_id})
    assert second.status_code == 409
    assert second.json()["message"].startswith(f"session {session_id} already runs agent {first['agent_id']}")

    await _first_step(_ws_url(lanterna_server, first["agent_id"], session_id))
    stop = await api.delete(f"/agents/{first['agent_id']}/stop", params={"session_id": session_id})
    assert stop.status_code == 200
    stopped = stop.json()
    assert stopped["status"] == "closed" and stopped["state"] == "stopped" and stopped["success"] is False
    assert 1 <= len(stopped["steps"]) < 40 and all(s["success"] for s in stopped["steps"])

    third = await _start(api, session_id, "Very complex task")  # the session is free again
    final = await _wait_closed(api, third["agent_id"])
    assert final["success"] is False and "LANTERNA_MODEL" in final["answer"]


async def test_closing_the_session_ends_its_agent(
    api: httpx.AsyncClient, session_id: str, lanterna_server: LanternaServer
) -> None:
    agent_id = (await _start(api, session_id, "wait a lot", reasoning_model=_waits(40)))["agent_id"]
    await _first_step(_ws_url(lanterna_server, agent_id, session_id))
    assert (await api.delete(f"/sessions/{session_id}/stop")).status_code == 200
    final = (await api.get(f"/agents/{agent_id}")).json()
    assert final["status"] == "closed" and final["success"] is False
    assert final["answer"] == "session closed: stopped"
    again = await api.post("/agents/start", json={"task": "x", "session_id": session_id})
    assert again.status_code == 409 and "closed" in again.json()["message"]


async def test_bad_requests_get_clear_errors(api: httpx.AsyncClient, session_id: str) -> None:
    unknown = await api.post("/agents/start", json={"task": "x", "session_id": "no-such-session"})
    assert unknown.status_code == 404 and "no-such-session" in unknown.json()["message"]
    schema = await api.post(
        "/agents/start", json={"task": "x", "session_id": session_id, "response_format": {"type": "objekt"}}
    )
    assert schema.status_code == 422 and "response_format" in schema.json()["message"]
    missing = await api.get("/agents/no-such-agent")
    assert missing.status_code == 404 and "detail" not in missing.json()


async def test_tenants_cannot_see_each_others_agents(
    api: httpx.AsyncClient, session_id: str, lanterna_server: LanternaServer
) -> None:
    agent_id = (await _start(api, session_id, "wait", reasoning_model=_waits(2, 50)))["agent_id"]
    other = {"Authorization": f"Bearer {lanterna_server.new_key('tenant-b')}"}
    async with httpx.AsyncClient(base_url=lanterna_server.url, headers=other, timeout=30) as b:
        assert (await b.get(f"/agents/{agent_id}")).status_code == 404
        assert (
            await b.delete(f"/agents/{agent_id}/stop", params={"session_id": session_id})
        ).status_code == 404
        assert (await b.get(f"/agents/{agent_id}/workflow/code")).status_code == 404
        assert agent_id not in [a["agent_id"] for a in (await b.get("/agents")).json()["items"]]
        hijack = await b.post("/agents/start", json={"task": "x", "session_id": session_id})
        assert hijack.status_code == 404
        key_b = other["Authorization"].removeprefix("Bearer ")
    with pytest.raises(InvalidStatus) as refused:
        await _read_stream(_ws_url(lanterna_server, agent_id, session_id, key_b))
    assert refused.value.response.status_code == 404
    with pytest.raises(InvalidStatus) as anonymous:
        await _read_stream(_ws_url(lanterna_server, agent_id, session_id, "wrong-key"))
    assert anonymous.value.response.status_code == 401
    await _wait_closed(api, agent_id)


async def test_a_finished_agents_status_stays_its_owners_and_matches_its_final_message(
    api: httpx.AsyncClient, session_id: str, lanterna_server: LanternaServer
) -> None:
    agent_id = (await _start(api, session_id, "wait a little", reasoning_model=_waits(3, 20)))["agent_id"]
    final = (await _read_stream(_ws_url(lanterna_server, agent_id, session_id)))[-1]["agent"]
    answers = [await api.get(f"/agents/{agent_id}") for _ in range(3)]  # the first may be remembered
    assert all(a.status_code == 200 and a.headers["content-type"] == "application/json" for a in answers)
    assert answers[0].json() == final and {a.content for a in answers} == {answers[0].content}
    other = lanterna_server.new_key("tenant-c")
    async with lanterna_server.client(other) as c:
        refused = await c.get(f"/agents/{agent_id}")
        assert refused.status_code == 404 and agent_id in refused.json()["message"]
    assert (await api.get(f"/agents/{agent_id}")).content == answers[0].content
