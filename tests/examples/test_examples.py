"""Every example script runs against a real server and the demo shop, with the offline reasoner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EMAIL = "hello@lanterna-shop.test"
PHONE = "+1 (555) 014-2398"

# script (+ args) → text its output must contain (each a behaviour the guide promises)
EXPECTED: dict[str, list[str]] = {
    "run_blocking.py": [EMAIL],
    "start_wait.py": ["success=True"],
    "async_agent.py": ["Classic Brass Lantern"],
    "state_running.py": ["status=active state=running", "after stop: status=closed success=False"],
    "state_completed.py": [EMAIL],
    "state_failed.py": ["Error:", "LLM"],
    "state_max_steps.py": ["Agent stopped: maximum steps reached"],
    "status_checking.py": ["Agent ID:", "Current state: active", "Final: success=True", EMAIL],
    "live_log_streaming.py": ["Final: success=True", EMAIL],
    "polling_pattern.py": ["Progress:", "Final result:", EMAIL],
    "parallel_agents.py": ["Agent 1:", EMAIL, "Agent 2:", PHONE, "Agent 3:", "Classic Brass Lantern"],
    "batch_execution.py": ["success=True", EMAIL],
    "manual_stop.py": ["status=closed state=stopped"],
    "timeout_pattern.py": ["exceeded 3.0s timeout", "Agent state after stop: stopped"],
    "response_structure.py": ["True", "Classic Brass Lantern"],
    "step_details.py": ["Step 1:", "Action:", "Success: True", EMAIL],
    "graceful_degradation.py": ["Falling back"],
    "agent_retry.py": ["Success:", PHONE],
    "agent_fallback_example.py": ["Task completed", "agent used: False"],
    "agent_fallback_example.py --broken": ["Task completed", "agent used: True"],
    "bp_execution_mode.py": [EMAIL, PHONE, "About Lantern Goods"],
    "bp_check_success.py": ["Using:", EMAIL],
    "bp_step_limits.py": [EMAIL],
    "bp_cleanup.py": ["closed"],
}


def test_every_example_is_covered() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == {key.split()[0] for key in EXPECTED}


@pytest.mark.parametrize("command", sorted(EXPECTED))
def test_example(command: str, lanterna_server, demo_site) -> None:
    before = _session_ids(lanterna_server)
    script, *args = command.split()
    env = {**lanterna_server.client_env, "LANTERNA_DEMO_URL": demo_site.url, "EXAMPLE_TIMEOUT_SECONDS": "3"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for expected in EXPECTED[command]:
        assert expected in output, f"{expected!r} not in output of {command}:\n{output}"
    # No example leaves a session open behind it.
    left_open = _session_ids(lanterna_server, only_active=True) - before
    assert not left_open, f"{command} left sessions open: {left_open}"


def _session_ids(server, *, only_active: bool = False) -> set[str]:
    response = httpx.get(
        f"{server.url}/sessions",
        params={"only_active": str(only_active), "page_size": 100},
        headers=server.headers,
    )
    response.raise_for_status()
    return {item["session_id"] for item in response.json()["items"]}


def test_examples_default_to_the_shop_hosted_by_the_server(lanterna_server) -> None:
    env = {k: v for k, v in lanterna_server.client_env.items() if k != "LANTERNA_DEMO_URL"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "run_blocking.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert EMAIL in done.stdout
    assert f"{lanterna_server.url}/demo" in done.stdout
