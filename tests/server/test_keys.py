"""API keys from the command line, and the key ``lanterna serve`` creates on its first start."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from lanterna.cli.serve import prepare_keys
from lanterna.store import Store
from tests.fixtures.server import _lanterna_command


def _lanterna(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANTERNA_")}
    return subprocess.run(
        [*_lanterna_command(), *args],
        env={**env, "LANTERNA_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    created = _lanterna(tmp_path, "keys", "create", "--name", "ci")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]  # the key alone on the last line
    assert key.startswith("lt_") and " " not in key

    listed = _lanterna(tmp_path, "keys", "list")
    assert "ci" in listed.stdout and key[:11] in listed.stdout and key not in listed.stdout

    assert _lanterna(tmp_path, "keys", "revoke", key[:11]).returncode == 0
    row = next(line for line in _lanterna(tmp_path, "keys", "list").stdout.splitlines() if key[:11] in line)
    assert len(re.findall(r"\d{4}-\d\d-\d\d", row)) == 2, row  # created and revoked
    missing = _lanterna(tmp_path, "keys", "revoke", "lt_nothing")
    assert missing.returncode == 1 and "no API key" in missing.stderr


async def test_first_start_creates_a_key_and_registers_the_chosen_one(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'lanterna.db'}"
    first = await prepare_keys(url, None)
    assert first is not None
    assert await prepare_keys(url, None) is None  # only when there is no key at all
    assert await prepare_keys(url, "lt_operator_choice") is None

    store = await Store.open(url)
    try:
        assert await store.keys.authenticate(first) is not None
        assert await store.keys.authenticate("lt_operator_choice") is not None
    finally:
        await store.close()
