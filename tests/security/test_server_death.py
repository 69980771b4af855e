"""A server killed with ``kill -9`` takes its browsers with it: nothing is left for a sweep."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.fixtures.server import LanternaServer, alive, launch_server


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanternaServer]:
    with launch_server(tmp_path_factory.mktemp("lanterna-kill")) as started:
        yield started


def _profiles(pids: set[int]) -> set[str]:
    found = set()
    for pid in pids:
        try:
            for arg in psutil.Process(pid).cmdline():
                if arg.startswith("--user-data-dir="):
                    found.add(arg.removeprefix("--user-data-dir="))
        except psutil.Error:
            continue
    return found


def _processes_using(profiles: set[str]) -> set[int]:
    """Every process naming one of ``profiles`` — also the crash handler, which leaves the group."""
    pids = set()
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if proc.info.get("status") != psutil.STATUS_ZOMBIE and any(p in cmdline for p in profiles):
            pids.add(proc.pid)
    return pids


def test_browsers_die_with_a_server_killed_by_sigkill(server: LanternaServer) -> None:
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as http:
        for _ in range(2):
            assert http.post("/sessions/start", json={}).status_code == 200
    browsers = server.chromium_pids()
    profiles = _profiles(browsers)
    assert len(profiles) >= 2, "the server should run a browser per session"
    everything = browsers | _processes_using(profiles)

    server.stop(crash=True)  # SIGKILL: the server closes nothing itself

    deadline = time.monotonic() + 10
    left = everything
    while left and time.monotonic() < deadline:
        left = {pid for pid in left | _processes_using(profiles) if alive(pid)}
        time.sleep(0.1)
    assert left == set(), [" ".join(psutil.Process(p).cmdline())[:120] for p in left if alive(p)]
    assert not any(Path(p).exists() for p in profiles), "profiles of the dead server are left on disk"
