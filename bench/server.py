"""The server under test: a real ``lanterna serve`` subprocess on a free loopback port.

It gets a temporary home (SQLite file, logs) and a known API key. Its memory is the sum of the
resident set of the server process and every process below it (the browsers and their helpers);
``MemorySampler`` follows that sum while a benchmark runs and remembers every Chromium process it
saw, so that processes outliving their session can be counted afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx
import psutil

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0


def lanterna_command() -> list[str]:
    script = Path(sys.executable).with_name("lanterna")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lanterna.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _is_chromium(process: psutil.Process) -> bool:
    try:
        return "chrom" in process.name().lower()
    except psutil.Error:
        return False


def _describe(process: psutil.Process) -> str:
    try:
        kind = next((a for a in process.cmdline() if a.startswith("--type=")), "browser")
        return f"pid {process.pid} {process.name()} {kind}"
    except psutil.Error:
        return f"pid {process.pid}"


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@dataclass
class Memory:
    """Bytes summed over a process tree. ``rss`` counts shared pages once per process that maps
    them (Chromium's processes share a lot, so it overstates); ``pss`` splits them fairly."""

    rss: int = 0
    pss: int = 0


class BenchServer:
    """``async with BenchServer(pool_size=10) as server:`` — ``url``, ``headers``, ``api_key``."""

    def __init__(
        self, *, pool_size: int, max_browsers: int = 64, env: dict[str, str] | None = None, grow: bool = False
    ) -> None:
        self.pool_size = pool_size
        self.grow = grow  # False: the warm pool stays at pool_size (benchmarks that count browsers)
        self.max_browsers = max_browsers
        self.extra_env = env or {}
        self.api_key = "lt_bench_" + secrets.token_urlsafe(16)
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="lanterna-bench-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.seen_chromium: dict[int, psutil.Process] = {}  # every browser process observed, by pid
        self.saved_log: Path | None = None  # the server's log, moved here by stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def __aenter__(self) -> BenchServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        env = {
            **os.environ,
            "LANTERNA_HOME": str(self.home),
            "LANTERNA_API_KEY": self.api_key,
            "LANTERNA_POOL_SIZE": str(self.pool_size),
            "LANTERNA_MAX_BROWSERS": str(self.max_browsers),
            **({} if self.grow else {"LANTERNA_POOL_MAX_SIZE": str(self.pool_size)}),
        }
        for name in ("LANTERNA_DATABASE_URL", "LANTERNA_MODEL_OVERRIDE"):
            env.pop(name, None)
        env.update(self.extra_env)
        with (self.home / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*lanterna_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"lanterna serve exited with {self.process.returncode}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{self.url}/health")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        await self.stop()
        raise RuntimeError(
            f"lanterna serve did not answer /health in {START_TIMEOUT_S:.0f} s:\n{self.log_tail()}"
        )

    async def stop(self) -> int:
        """SIGTERM the server and wait for it (it closes every session); then count, and kill,
        the Chromium processes still running that it had started. Returns that count."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            self.observe_processes()
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, 10)
        left = [p for p in self.seen_chromium.values() if _alive(p)]
        for leftover in left:
            with contextlib.suppress(psutil.Error):
                leftover.kill()
        log = self.home / "server.log"
        if log.exists():  # kept for diagnosis: the home (database, profiles) is not
            self.saved_log = Path(tempfile.gettempdir()) / f"lanterna-bench-server-{self.port}.log"
            shutil.move(log, self.saved_log)
        shutil.rmtree(self.home, ignore_errors=True)
        return len(left)

    # ----- processes and memory -------------------------------------------------------------

    def _root(self) -> psutil.Process | None:
        if self.process is None:
            return None
        try:
            return psutil.Process(self.process.pid)
        except psutil.NoSuchProcess:
            return None

    def process_tree(self) -> list[psutil.Process]:
        root = self._root()
        if root is None:
            return []
        try:
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def observe_processes(self) -> Memory:
        """Memory of the server's process tree now, noting every browser process on the way."""
        memory = Memory()
        for process in self.process_tree():
            try:
                info = process.memory_full_info()
            except psutil.Error:
                continue
            memory.rss += info.rss
            memory.pss += getattr(info, "pss", info.rss)
            if process.pid not in self.seen_chromium and _is_chromium(process):
                self.seen_chromium[process.pid] = process
        return memory

    def browser_count(self) -> int:
        """Browsers the server runs now (warm and in use): its direct Chromium children."""
        root = self._root()
        if root is None:
            return 0
        try:
            return sum(1 for child in root.children() if _is_chromium(child) and _alive(child))
        except psutil.NoSuchProcess:
            return 0

    def stray_chromium(self) -> list[str]:
        """Chromium processes seen earlier that still run but no longer belong to a live browser
        of the server (a released session's helpers that survived their browser), described."""
        self.observe_processes()
        current = {p.pid for p in self.process_tree()}
        return [_describe(p) for pid, p in self.seen_chromium.items() if pid not in current and _alive(p)]

    async def wait_for_browsers(self, count: int, timeout_s: float = 120.0) -> bool:
        """Wait until the server runs ``count`` browsers (e.g. the warm pool refilled)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.browser_count() == count:
                return True
            await asyncio.sleep(0.2)
        return False

    def log_tail(self, lines: int = 30) -> str:
        path = self.saved_log or self.home / "server.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class MemorySampler:
    """``async with MemorySampler(server) as sampler:`` … ``sampler.peak`` (the largest sample)."""

    def __init__(self, server: BenchServer, interval_s: float = 1.0) -> None:
        self.server = server
        self.interval_s = interval_s
        self.peak = Memory()
        self._task: asyncio.Task[None] | None = None

    def _add(self, sample: Memory) -> None:
        self.peak = Memory(rss=max(self.peak.rss, sample.rss), pss=max(self.peak.pss, sample.pss))

    async def _sample(self) -> None:
        while True:
            self._add(await asyncio.to_thread(self.server.observe_processes))
            await asyncio.sleep(self.interval_s)

    async def __aenter__(self) -> MemorySampler:
        self._add(self.server.observe_processes())
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._add(self.server.observe_processes())
