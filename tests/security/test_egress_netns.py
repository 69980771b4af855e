"""Link-local (cloud metadata) and private addresses, attacked inside a namespace of our own.

``netns_attacks.py`` runs in a fresh network namespace with only loopback and fake hosts, so
a refusal that fails reaches a fake (and is counted) instead of sending anything off the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).with_name("netns_attacks.py")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"),
    reason="needs root, unshare and ip to make a network namespace with fake hosts",
)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    done = subprocess.run(
        ["unshare", "--net", "--mount", "--propagation=private", sys.executable, str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("REPORT "))
    return result


@pytest.mark.parametrize(
    "attack",
    [
        "metadata",
        "metadata_by_name",
        "metadata_mapped_v6",
        "metadata_numeric",
        "metadata_https",
        "redirect_to_metadata",
    ],
)
def test_the_metadata_address_is_refused_naming_the_rule(report: dict[str, Any], attack: str) -> None:
    outcome = report[attack]
    assert not outcome["success"]
    assert "link-local" in outcome["message"] and "always denied" in outcome["message"], outcome


def test_page_scripts_cannot_reach_the_metadata_address(report: dict[str, Any]) -> None:
    for attack in ("fetch_metadata", "fetch_metadata_by_name"):
        assert report[attack] == "failed" or report[attack].startswith("403:"), report[attack]
        assert "SECRET" not in report[attack]
    assert "link-local" in report["refusal_rules"]


def test_no_request_reached_the_fake_metadata_service(report: dict[str, Any]) -> None:
    assert report["hits"]["169.254.169.254"] == 0


def test_private_ranges_are_reachable_by_default_and_refused_when_public_only(report: dict[str, Any]) -> None:
    assert report["intranet_default_mode"]["success"], report["intranet_default_mode"]
    for attack in ("public_only_intranet", "public_only_intranet_by_name", "public_only_loopback"):
        outcome = report[attack]
        assert not outcome["success"]
        assert "private-range" in outcome["message"] and "LANTERNA_EGRESS" in outcome["message"], outcome
    assert report["public_only_allowed_intranet"]["success"], report["public_only_allowed_intranet"]
    # The default-mode visit and the explicitly allowed one: nothing else got through.
    assert report["hits"]["10.77.0.1"] == 2
