"""The CLI explains what to fix, with exit code 1, before it starts anything that cannot work."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

LANTERNA = [sys.executable, "-m", "lanterna.cli"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LANTERNA_", "OPENAI_"))}
    return subprocess.run(
        [*LANTERNA, *args], env={**base, **(env or {})}, capture_output=True, text=True, timeout=60
    )


def test_version() -> None:
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("lanterna ")


def test_missing_model_key_names_the_variable_to_set() -> None:
    done = run_cli("demo", "--model", "openai/gpt-4o-mini")
    assert done.returncode == 1
    assert "OPENAI_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_model_provider_is_explained() -> None:
    done = run_cli("run", "find the email", "--model", "nosuch/model")
    assert done.returncode == 1
    assert "unknown model provider 'nosuch'" in done.stderr


def test_missing_chromium_says_what_to_install() -> None:
    done = run_cli("demo", env={"LANTERNA_CHROMIUM": "/nonexistent/chromium"})
    assert done.returncode == 1
    assert "Chromium" in done.stderr and "/nonexistent/chromium" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreachable_server_is_explained() -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = run_cli("sessions", "ls", "--server", f"http://127.0.0.1:{port}", "--api-key", "whatever")
    assert done.returncode == 1
    assert "cannot reach" in done.stderr and f"http://127.0.0.1:{port}" in done.stderr
    assert "lanterna serve" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_api_key_is_explained() -> None:
    done = run_cli("agents", "ls")
    assert done.returncode == 1
    assert "no API key: pass --api-key or set LANTERNA_API_KEY" in done.stderr
