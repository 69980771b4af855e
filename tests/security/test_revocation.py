"""Revoking a key (``lanterna keys revoke``, another process) ends what its holder has open, at once.

Key B's CDP WebSocket and agent-logs WebSocket close within 1 s of the command returning, with
the revocation as the reason; its agent ends stopped and its session closed. Key A is untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from lanterna.store import Store
from tests.fixtures.server import LanternaServer, _lanterna_command

CLOSE_WITHIN_S = 1.0
REVOKED_CODE = 4401


def _long_waits() -> str:
    """A scripted model that keeps the agent busy for about half a minute."""
    return "scripted:" + json.dumps([{"type": "wait", "time_ms": 500 + n} for n in range(60)])


@dataclass
class Closed:
    at: float  # time.monotonic() when the client saw the close
    code: int | None
    reason: str | None


async def _until_closed(ws: ClientConnection) -> Closed:
    """Read (and drop) frames until the server closes the socket."""
    with contextlib.suppress(ConnectionClosed):
        async for _frame in ws:
            pass
    return Closed(time.monotonic(), ws.close_code, ws.close_reason)


@dataclass
class Tenant:
    key: str
    api: httpx.AsyncClient
    session_id: str
    agent_id: str
    cdp: ClientConnection
    logs: ClientConnection
    cdp_closed: asyncio.Task[Closed]
    logs_closed: asyncio.Task[Closed]


@contextlib.asynccontextmanager
async def _tenant(server: LanternaServer, name: str) -> AsyncIterator[Tenant]:
    """A new key with a session, a long-running agent, and its CDP and agent-logs WebSockets open."""
    key = server.new_key(name)
    ws_base = server.url.replace("http://", "ws://")
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as api:
        started = await api.post("/sessions/start", json={})
        assert started.status_code == 200, started.text
        session_id = started.json()["session_id"]
        try:
            agent = await api.post(
                "/agents/start",
                # max_steps past the script's length: the agent must outlast the test, however slow.
                json={
                    "task": "wait",
                    "session_id": session_id,
                    "reasoning_model": _long_waits(),
                    "max_steps": 100,
                },
            )
            assert agent.status_code == 200, agent.text
            agent_id = agent.json()["agent_id"]
            async with (
                websockets.connect(
                    f"{ws_base}/sessions/{session_id}/cdp?token={key}", open_timeout=10
                ) as cdp,
                websockets.connect(
                    f"{ws_base}/agents/{agent_id}/debug/logs?token={key}&session_id={session_id}",
                    open_timeout=10,
                ) as logs,
            ):
                tasks = (asyncio.create_task(_until_closed(cdp)), asyncio.create_task(_until_closed(logs)))
                try:
                    yield Tenant(key, api, session_id, agent_id, cdp, logs, *tasks)
                finally:
                    for task in tasks:
                        task.cancel()
        finally:
            with contextlib.suppress(httpx.HTTPError):
                await api.delete(f"/agents/{agent_id}/stop", params={"session_id": session_id})
                await api.delete(f"/sessions/{session_id}/stop")


async def _revoke(server: LanternaServer, key: str) -> float:
    """``lanterna keys revoke KEY`` as a separate process; the time.monotonic() when it returned."""
    process = await asyncio.create_subprocess_exec(
        *_lanterna_command(),
        "keys",
        "revoke",
        key,
        env=server.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    returned = time.monotonic()
    assert process.returncode == 0, output.decode()
    assert b"Revoked key" in output
    return returned


async def _cdp_answers(ws: ClientConnection) -> bool:
    await ws.send(json.dumps({"id": 1, "method": "Browser.getVersion"}))
    async with asyncio.timeout(10):
        while True:  # events may come first; bounded by the timeout
            reply = json.loads(await ws.recv())
            if reply.get("id") == 1:
                return "product" in reply.get("result", {})


async def _stored_agent(server: LanternaServer, key: str, agent_id: str, timeout_s: float = 30) -> Any:
    """The agent's and its session's stored records once both are closed (the key can no longer
    read them over HTTP)."""
    store = await Store.open(server.database_url or f"sqlite+aiosqlite:///{server.home / 'lanterna.db'}")
    try:
        tenant = next(k.key_id for k in await store.keys.list() if key.startswith(k.prefix))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            record = await store.agents.get(tenant, agent_id)
            session = await store.sessions.get(tenant, record.session_id) if record else None
            if record and session and record.status == "closed" and session.status != "active":
                return record, session
            await asyncio.sleep(0.1)
        raise AssertionError(f"agent {agent_id} or its session still active {timeout_s} s after revoking")
    finally:
        await store.close()


async def test_revoking_a_key_closes_its_websockets_and_stops_its_agents(
    lanterna_server: LanternaServer,
) -> None:
    async with _tenant(lanterna_server, "tenant-a") as a, _tenant(lanterna_server, "tenant-b") as b:
        assert (await b.api.get(f"/agents/{b.agent_id}")).json()["status"] == "active"

        returned = await _revoke(lanterna_server, b.key)

        for name, task in (("cdp", b.cdp_closed), ("agent logs", b.logs_closed)):
            closed = await asyncio.wait_for(task, timeout=10)
            took = closed.at - returned
            assert took < CLOSE_WITHIN_S, f"{name} socket closed {took:.2f} s after the revoke returned"
            assert closed.code == REVOKED_CODE and closed.reason == "API key revoked", (name, closed)

        record, session = await _stored_agent(lanterna_server, b.key, b.agent_id)
        assert record.state == "stopped" and record.success is False
        assert record.answer == "stopped: API key revoked"
        assert session.status == "closed" and session.error == "API key revoked"

        # The key itself is refused everywhere from now on.
        assert (await b.api.get(f"/sessions/{b.session_id}")).status_code == 401
        ws_base = lanterna_server.url.replace("http://", "ws://")
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(f"{ws_base}/sessions/{b.session_id}/cdp?token={b.key}", open_timeout=10)
        assert refused.value.response.status_code == 401

        # Tenant A keeps its sockets, agent and session.
        assert not a.cdp_closed.done() and not a.logs_closed.done()
        a.cdp_closed.cancel()  # stop reading, to read a CDP answer instead
        with contextlib.suppress(asyncio.CancelledError):
            await a.cdp_closed
        assert await _cdp_answers(a.cdp)
        assert not a.logs_closed.done()
        status = (await a.api.get(f"/agents/{a.agent_id}")).json()
        assert status["status"] == "active", status
        assert (await a.api.get(f"/sessions/{a.session_id}")).json()["status"] == "active"


async def test_a_key_polling_status_is_refused_within_a_second_of_its_revocation(
    lanterna_server: LanternaServer,
) -> None:
    # The server remembers a key it found valid; a revocation by another process must still end it.
    key = lanterna_server.new_key("poller")
    async with lanterna_server.client(key) as api:
        for _ in range(20):
            assert (await api.get("/agents")).status_code == 200

        returned = await _revoke(lanterna_server, key)
        refused_at = None
        while time.monotonic() < returned + 10:
            answer = await api.get("/agents")
            if answer.status_code == 401:
                refused_at = time.monotonic()
                assert "invalid or revoked API key" in answer.json()["message"]
                break
            assert answer.status_code == 200
            await asyncio.sleep(0.02)
        assert refused_at is not None, "the revoked key was still accepted 10 s later"
        took = refused_at - returned
        assert took < CLOSE_WITHIN_S, f"the revoked key was accepted {took:.2f} s after the revoke returned"
        assert [(await api.get("/agents")).status_code for _ in range(10)] == [401] * 10
