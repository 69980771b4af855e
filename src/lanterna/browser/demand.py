"""How much the pool keeps ready: as many sessions as started in the busiest second of late."""

from __future__ import annotations

import time
from collections import deque

MAX_REMEMBERED = 10_000  # starts kept for the window; more than any window on one machine sees


class Demand:
    """Start times of recent sessions.

    ``target(low, high)`` is the most sessions started within any one second of the last
    ``window_s`` seconds, clamped to ``[low, high]``: a burst raises it at once, and it falls back
    to ``low`` a window after the load stops.
    """

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._starts: deque[float] = deque(maxlen=MAX_REMEMBERED)

    def record(self, now: float | None = None) -> None:
        """A session was asked for."""
        self._starts.append(time.monotonic() if now is None else now)

    def peak_per_second(self, now: float | None = None) -> int:
        """The most starts within one second, over the window."""
        now = time.monotonic() if now is None else now
        while self._starts and self._starts[0] < now - self.window_s:
            self._starts.popleft()
        starts = list(self._starts)
        peak, first = 0, 0
        for last, at in enumerate(starts):
            while starts[first] <= at - 1.0:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

    def target(self, low: int, high: int, now: float | None = None) -> int:
        """What to keep ready now: the recent peak, at least ``low`` and at most ``high``."""
        return max(low, min(high, self.peak_per_second(now)))
