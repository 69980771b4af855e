"""An agent running when the server gets SIGTERM answers that the server shut down (not "stopped")."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.fixtures.server import LanternaServer, launch_server

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanternaServer]:
    """A server of this module's own: the test stops and restarts it."""
    with launch_server(tmp_path_factory.mktemp("lanterna-shutdown")) as started:
        yield started


def _long_script(steps: int = 50) -> str:
    # Distinct waits, so the loop's repeat guard does not end the agent early.
    return "scripted:" + json.dumps([{"type": "wait", "time_ms": 1000 + n} for n in range(steps)])


async def _first_step(server: LanternaServer, agent_id: str) -> None:
    """Return once the agent has taken a step (read from its live log WebSocket)."""
    url = f"ws://127.0.0.1:{server.port}/agents/{agent_id}/debug/logs?token={server.api_key}"
    async with connect(url, open_timeout=30) as logs:
        message = json.loads(await logs.recv())
    assert message.get("status") != "agent_stop", message  # still running


async def test_sigterm_tells_running_agents_the_server_shut_down(server: LanternaServer) -> None:
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as http:
        session_id = http.post("/sessions/start", json={}).json()["session_id"]
        started = http.post(
            "/agents/start",
            json={"task": "wait a long time", "session_id": session_id, "reasoning_model": _long_script()},
        )
        assert started.status_code == 200, started.text
        agent_id = started.json()["agent_id"]
    await _first_step(server, agent_id)

    server.stop()  # SIGTERM, and wait for the process to exit
    server.start()

    with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as http:
        agent = http.get(f"/agents/{agent_id}").json()
    assert agent["status"] == "closed" and agent["success"] is False, agent
    assert agent["answer"] == "server shut down while the agent was running; start it again", agent
    assert agent["state"] == "failed"
    assert agent["reasoning_model"] == "scripted"
    assert 1 <= len(agent["steps"]) < 50  # its steps up to the shutdown are kept
