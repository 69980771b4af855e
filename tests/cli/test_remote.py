"""The CLI against a running server: `run --server`, `agents ls|show`, `sessions ls|stop`, a bad key."""

from __future__ import annotations

import subprocess
import sys

from lanterna import Client
from lanterna.demo.site import CONTACT_EMAIL, DemoSite
from tests.fixtures.server import LanternaServer


def lanterna(server: LanternaServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**server.client_env, "COLUMNS": "240"}  # wide tables: ids are never folded
    return subprocess.run(
        [sys.executable, "-m", "lanterna.cli", *args], env=env, capture_output=True, text=True, timeout=180
    )


def answer_line(output: str) -> str:
    return next((line for line in output.splitlines() if line.startswith("Answer:")), "")


def test_run_against_a_server_then_inspect_the_agent(
    lanterna_server: LanternaServer, demo_site: DemoSite
) -> None:
    task = f"Go to {demo_site.url} and find the contact email"
    done = lanterna(lanterna_server, "run", task, "--server", lanterna_server.url, "--max-steps", "8")
    assert done.returncode == 0, done.stdout + done.stderr
    assert answer_line(done.stdout) and CONTACT_EMAIL in answer_line(done.stdout)
    assert "  1 ✓ goto " in done.stdout  # steps were shown one per line

    with Client(api_key=lanterna_server.api_key, server_url=lanterna_server.url) as client:
        agent = next(a for a in client.agents.list(only_active=False, page_size=50) if a.task == task)

    listed = lanterna(lanterna_server, "agents", "ls", "--all")
    assert listed.returncode == 0, listed.stderr
    assert agent.agent_id in listed.stdout

    shown = lanterna(lanterna_server, "agents", "show", agent.agent_id)
    assert shown.returncode == 0, shown.stderr
    assert f"Task: {task}" in shown.stdout
    assert "State: completed" in shown.stdout
    assert CONTACT_EMAIL in answer_line(shown.stdout)
    for number in range(1, len(agent.steps) + 1):
        assert f"│ {number} │" in shown.stdout  # one table row per step


def test_sessions_ls_and_stop(lanterna_server: LanternaServer) -> None:
    with Client(api_key=lanterna_server.api_key, server_url=lanterna_server.url) as client:
        session = client.Session()
        session_id = session.start().session_id
        try:
            listed = lanterna(lanterna_server, "sessions", "ls")
            assert listed.returncode == 0, listed.stderr
            assert session_id in listed.stdout

            stopped = lanterna(lanterna_server, "sessions", "stop", session_id)
            assert stopped.returncode == 0, stopped.stderr
            assert f"Session {session_id} is closed." in stopped.stdout
            assert session.status().status == "closed"
        finally:
            session.stop()


def test_a_bad_key_is_explained(lanterna_server: LanternaServer) -> None:
    done = lanterna(lanterna_server, "agents", "ls", "--api-key", "lt_not_a_key")
    assert done.returncode == 1
    assert f"{lanterna_server.url} refused the API key" in done.stderr
    assert "lanterna keys create" in done.stderr
    assert "Traceback" not in done.stderr
