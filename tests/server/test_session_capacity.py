"""Every browser busy: a start waits (bounded), then answers 503 with ``Retry-After``; a stop frees one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.fixtures.server import LanternaServer, launch_server

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def one_browser_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanternaServer]:
    """A server that may run one browser, in context isolation with one session per browser."""
    env = {
        "LANTERNA_MAX_BROWSERS": "1",
        "LANTERNA_ISOLATION": "context",
        "LANTERNA_CONTEXTS_PER_BROWSER": "1",
        "LANTERNA_ACQUIRE_WAIT_S": "2",
    }
    with launch_server(tmp_path_factory.mktemp("lanterna-capacity"), extra_env=env) as server:
        yield server


async def test_a_start_past_the_wait_gets_503_with_retry_after(one_browser_server: LanternaServer) -> None:
    async with one_browser_server.client() as api:
        first = await api.post("/sessions/start", json={})
        assert first.status_code == 200, first.text
        session_id = first.json()["session_id"]
        try:
            refused = await api.post("/sessions/start", json={})
            assert refused.status_code == 503, refused.text
            assert int(refused.headers["Retry-After"]) >= 1
            message = refused.json()["message"]
            assert "none was released within 2 s" in message and "LANTERNA_ACQUIRE_WAIT_S" in message
        finally:
            stopped = await api.delete(f"/sessions/{session_id}/stop")
        assert stopped.status_code == 200 and stopped.json()["status"] == "closed"
        # The freed context is reset and replaced in the background; the next start waits for it.
        again = await api.post("/sessions/start", json={})
        assert again.status_code == 200, again.text
        await api.delete(f"/sessions/{again.json()['session_id']}/stop")


async def test_a_start_waits_for_a_session_to_end(one_browser_server: LanternaServer) -> None:
    async with one_browser_server.client() as api:
        first = (await api.post("/sessions/start", json={})).json()["session_id"]
        waiting = asyncio.ensure_future(api.post("/sessions/start", json={}))
        stopped = await api.delete(f"/sessions/{first}/stop")
        assert stopped.status_code == 200
        second = await asyncio.wait_for(waiting, 60)
        assert second.status_code == 200, second.text
        await api.delete(f"/sessions/{second.json()['session_id']}/stop")
