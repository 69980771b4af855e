"""`lanterna demo` on a machine with no model key: the offline reasoner finds the shop's email."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from lanterna.demo.site import CONTACT_EMAIL


def test_demo_command_finds_the_contact_email() -> None:
    script = Path(sys.executable).with_name("lanterna")
    command = [str(script)] if script.exists() else [shutil.which("lanterna") or "lanterna"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANTERNA_")}
    done = subprocess.run([*command, "demo"], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    answer_lines = [line for line in done.stdout.splitlines() if line.startswith("Answer:")]
    assert answer_lines and CONTACT_EMAIL in answer_lines[0], done.stdout
    assert "✓ success" in done.stdout
    saved = next(line for line in done.stdout.splitlines() if line.startswith("Watch the run again:"))
    assert Path(saved.split(":", 1)[1].strip()).stat().st_size > 0  # the run's MP4
