"""A server that crashes or shuts down leaves no browser behind and reports its sessions closed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.server import LanternaServer, alive, launch_server

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanternaServer]:
    """A server of this module's own: the tests kill and restart it."""
    with launch_server(tmp_path_factory.mktemp("lanterna-restart")) as started:
        yield started


def _client(server: LanternaServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers=server.headers, timeout=60)


def _start_session(http: httpx.Client, url: str) -> str:
    session_id: str = http.post("/sessions/start", json={}).json()["session_id"]
    result = http.post(f"/sessions/{session_id}/page/execute", json={"type": "goto", "url": url}).json()
    assert result["success"], result
    return session_id


def _wait_gone(pids: set[int], timeout_s: float = 15.0) -> set[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        left = {pid for pid in pids if alive(pid)}
        if not left:
            return set()
        time.sleep(0.2)
    return {pid for pid in pids if alive(pid)}


def test_crash_then_restart_closes_old_sessions_and_kills_their_browsers(
    server: LanternaServer, demo_site: Any
) -> None:
    with _client(server) as http:
        sessions = [_start_session(http, demo_site.page("index.html")) for _ in range(2)]
    browsers = server.chromium_pids()
    assert browsers, "the server should be running browsers"

    server.restart(crash=True)  # SIGKILL: nothing gets closed by the old process

    assert _wait_gone(browsers) == set(), "browsers of the crashed server are still running"
    with _client(server) as http:
        for session_id in sessions:
            session = http.get(f"/sessions/{session_id}").json()
            assert (session["status"], session["error"]) == ("closed", "server restarted"), session
            assert session["closed_at"] is not None
            assert http.get(f"/sessions/{session_id}/offset").json() == {"offset": 1}  # persisted
            observe = http.post(f"/sessions/{session_id}/page/observe", json={})
            assert observe.status_code == 409 and "server restarted" in observe.json()["message"]
        # The restarted server works as before.
        _start_session(http, demo_site.page("contact.html"))


def test_graceful_shutdown_closes_every_session_and_browser(server: LanternaServer, demo_site: Any) -> None:
    with _client(server) as http:
        session_id = _start_session(http, demo_site.page("index.html"))
    browsers = server.chromium_pids()
    assert browsers

    server.stop()  # SIGTERM
    assert {pid for pid in browsers if alive(pid)} == set()

    server.start()
    with _client(server) as http:
        session = http.get(f"/sessions/{session_id}").json()
    assert (session["status"], session["error"]) == ("closed", "server shut down"), session
