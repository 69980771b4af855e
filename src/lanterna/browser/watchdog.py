"""Outlives its server by a moment: when the server dies, however it dies, this removes what its
browsers left (stragglers outside their process group, profile folders with tenant data).

The pool starts ``python -m lanterna.browser.watchdog OWNER_PID`` with a pipe on its standard input
and never writes to it; the pipe closes only when the server exits (a ``kill -9`` included).
The browsers themselves die at once through their parent-death signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lanterna.browser.profile import owner_is_alive, sweep_orphans

_OWNER_EXIT_TIMEOUT_S = 10.0
_ROOT_VARIABLE = "LANTERNA_WATCHDOG_PROFILES"


def spawn(profile_root: Path) -> subprocess.Popen[bytes]:
    """Start the watchdog of this process's browsers under ``profile_root``."""
    return subprocess.Popen(
        [sys.executable, "-m", "lanterna.browser.watchdog", str(os.getpid())],
        # The folder goes by the environment: a command line naming it would look like a browser's.
        env={**os.environ, _ROOT_VARIABLE: str(profile_root)},
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not in the server's process group: a terminal's Ctrl-C spares it
    )


def main(root: Path, owner_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdin.buffer.read()  # returns when the server's end of the pipe closes
    deadline = time.monotonic() + _OWNER_EXIT_TIMEOUT_S
    while owner_is_alive({"owner_pid": owner_pid}) and time.monotonic() < deadline:
        time.sleep(0.02)  # a graceful close releases its own browsers; wait for it to finish
    sweep_orphans(root)


if __name__ == "__main__":
    main(Path(os.environ[_ROOT_VARIABLE]), int(sys.argv[1]))
