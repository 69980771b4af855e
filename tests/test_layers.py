"""The layer order of DESIGN.md holds: `lint-imports` keeps every contract in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_imports_follow_the_layer_contracts() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-logo", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # The report names each broken contract and the import that breaks it.
    assert done.returncode == 0, done.stdout + done.stderr
