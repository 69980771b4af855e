"""What the benchmarks ran on: CPU, cores, memory, OS and the versions that matter."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psutil

from bench.report import REPO_ROOT, Machine
from lanterna.browser import find_chromium
from lanterna.config import Settings


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))} (Linux {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def _chromium_version(settings: Settings) -> str:
    try:
        binary = find_chromium(settings)
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
        return out.strip() or binary
    except Exception as exc:  # reported, not fatal: the benchmarks say what failed
        return f"unknown ({exc})"


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _lanterna_version() -> str:
    described = _package("lanterna")
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return described
    if commit:
        described += f" (commit {commit}{' + local changes' if dirty else ''})"
    return described


def describe_machine(settings: Settings | None = None) -> Machine:
    load = os.getloadavg()
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 1,
        ram_gib=psutil.virtual_memory().total / 2**30,
        os=_os_name(),
        chromium=_chromium_version(settings or Settings()),
        python=platform.python_version(),
        playwright=_package("playwright"),
        lanterna=_lanterna_version(),
        load_before=" / ".join(f"{x:.2f}" for x in load) + " (1 / 5 / 15 min)",
    )
