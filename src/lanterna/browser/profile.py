"""Temporary browser profile directories, their owner marker, and the orphan sweep.

Each profile directory holds a marker naming the process that owns it. A directory
whose owner is gone was left by a crash: the sweep kills its browser processes and
deletes it. Directories of live owners (other lanterna processes) are left alone.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

MARKER = "lanterna-owner.json"
PROFILE_PREFIX = "profile-"
DISCARDED_SUFFIX = ".discarded"
PLAYWRIGHT_PREFIX = "playwright-"  # + owner pid + "-": Playwright's temporary folder of one pool


def default_profile_root() -> Path:
    return Path(tempfile.gettempdir()) / "lanterna-browsers"


def _process_started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def create_profile_dir(root: Path) -> Path:
    """A fresh profile directory under ``root`` whose marker names this process as owner."""
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=PROFILE_PREFIX, dir=root))
    write_marker(path)
    return path


def write_marker(path: Path, *, browser_pid: int | None = None) -> None:
    pid = os.getpid()
    marker = {"owner_pid": pid, "owner_started": _process_started(pid), "browser_pid": browser_pid}
    (path / MARKER).write_text(json.dumps(marker))


def owner_is_alive(marker: dict[str, object]) -> bool:
    """True when the marker's owner process still runs (same pid *and* same start time)."""
    pid = marker.get("owner_pid")
    if not isinstance(pid, int):
        return False
    started = _process_started(pid)
    if started is None:
        return False
    recorded = marker.get("owner_started")
    # A reused pid has a different start time.
    return not isinstance(recorded, int | float) or abs(started - recorded) < 1.0


def remove_profile_dir(path: Path) -> None:
    # A dying browser may still write a file while the tree is removed: retry briefly.
    for _ in range(5):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.05)


def discard_profile(path: Path) -> Path:
    """Kill what is left of a released browser and move its profile aside (blocking; run in a
    thread). Returns the new path: deleting a profile tree can take 100 ms, so callers may
    ``remove_profile_dir`` it later. The name keeps its prefix, so a crash before that leaves
    it to the orphan sweep."""
    kill_browsers_using([path])
    discarded = path.with_name(f"{path.name}{DISCARDED_SUFFIX}")
    try:
        path.rename(discarded)
    except OSError:
        return path
    return discarded


def kill_browsers_using(profile_dirs: list[Path]) -> int:
    """SIGKILL every process whose command line names one of ``profile_dirs``; returns how many.

    Catches what escaped the process group (Chromium's crash handler starts its own session).
    """
    needles = [f"{d}{os.sep}" for d in profile_dirs] + [f"={d}" for d in profile_dirs]
    killed: list[psutil.Process] = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info.get("status") == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(proc.info.get("cmdline") or [])
            if any(n in cmdline for n in needles):
                proc.kill()
                killed.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    wait_until_exited(killed, timeout_s=2.0)
    return len(killed)


def wait_until_exited(processes: list[psutil.Process], timeout_s: float) -> None:
    """Block until none of ``processes`` still runs (zombies count as exited: init reaps them late)."""
    deadline = time.monotonic() + timeout_s
    while processes and time.monotonic() < deadline:
        processes = [p for p in processes if _running(p)]
        if processes:
            time.sleep(0.005)


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def sweep_orphans(root: Path) -> list[Path]:
    """Kill the browsers and delete the profile dirs whose owner is dead; returns the dirs removed."""
    if not root.is_dir():
        return []
    orphans: list[Path] = []
    for path in root.iterdir():
        if path.is_dir() and path.name.startswith(PLAYWRIGHT_PREFIX):
            owner = path.name.removeprefix(PLAYWRIGHT_PREFIX).partition("-")[0]
            if owner.isdigit() and _process_started(int(owner)) is None:
                remove_profile_dir(path)  # may hold downloads of a crashed server's sessions
            continue
        if not path.is_dir() or not path.name.startswith(PROFILE_PREFIX):
            continue
        try:
            marker = json.loads((path / MARKER).read_text())
        except FileNotFoundError:
            # Created a moment ago and not yet marked, or marker lost: judge by age.
            if _age_s(path) < 60:
                continue
            marker = {}
        except (OSError, ValueError):
            marker = {}
        if isinstance(marker, dict) and owner_is_alive(marker):
            continue
        orphans.append(path)
    if not orphans:
        return []
    killed = kill_browsers_using(orphans)
    for path in orphans:
        remove_profile_dir(path)
    log.info("swept %d orphan browser profiles (%d processes killed)", len(orphans), killed)
    return orphans


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0
