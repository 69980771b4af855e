"""How much of the machine other work used while the benchmarks ran.

Every process the benchmarks start (servers, browsers and their helpers, baselines) inherits a
marker in its environment; once a second the sampler adds up the CPU time of every process
without it (kernel threads and init aside: they serve every process). Processes that start and
end between two samples are missed, so the figure is a lower bound; it tells a quiet run from one
that competed with a test suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from types import TracebackType

import psutil

MARKER = "LANTERNA_BENCH_RUN"


class OtherWork:
    """``async with OtherWork() as other:`` … ``other.share``: their part of all cores' time."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self.token = secrets.token_hex(8)
        self.cpu_s = 0.0
        self.share = 0.0
        self._ours: dict[tuple[int, float], bool] = {}
        self._last: dict[tuple[int, float], float] = {}
        self._task: asyncio.Task[None] | None = None
        self._begin = 0.0

    def _is_ours(self, process: psutil.Process, key: tuple[int, float]) -> bool:
        if key not in self._ours:
            try:
                # Kernel threads and init work for every process (ours included): not other work.
                system = process.pid in (1, 2) or process.ppid() == 2
                self._ours[key] = (
                    system or process.pid == os.getpid() or process.environ().get(MARKER) == self.token
                )
            except psutil.Error:
                self._ours[key] = False
        return self._ours[key]

    def sample(self) -> None:
        for process in psutil.process_iter():
            try:
                key = (process.pid, process.create_time())
                if self._is_ours(process, key):
                    continue
                times = process.cpu_times()
            except psutil.Error:
                continue
            used = times.user + times.system
            # A process already running at the first sample counts from then on.
            self.cpu_s += used - self._last.get(key, used if self._task is None else 0.0)
            self._last[key] = used

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await asyncio.to_thread(self.sample)

    async def __aenter__(self) -> OtherWork:
        os.environ[MARKER] = self.token  # inherited by everything the benchmarks start
        self._begin = time.monotonic()
        self.sample()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()
        os.environ.pop(MARKER, None)
        elapsed = time.monotonic() - self._begin
        self.share = self.cpu_s / (elapsed * (os.cpu_count() or 1)) if elapsed else 0.0
