"""Live fan-out of a recording's frames: each subscriber gets the latest frame, then new ones."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

# A slow viewer keeps only the newest frames; it never holds the recorder up.
QUEUE_FRAMES = 2


class FrameHub:
    """Holds the latest JPEG and hands each new one to every subscriber."""

    def __init__(self) -> None:
        self.latest: bytes | None = None
        self._queues: set[asyncio.Queue[bytes | None]] = set()

    def publish(self, jpeg: bytes) -> None:
        self.latest = jpeg
        for queue in self._queues:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(jpeg)

    def close(self) -> None:
        """End every subscription (the recording stopped)."""
        for queue in self._queues:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(None)

    async def subscribe(self) -> AsyncIterator[bytes]:
        """The latest frame (if any), then every new one until ``close``."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=QUEUE_FRAMES)
        self._queues.add(queue)
        try:
            if self.latest is not None:
                yield self.latest
            while (jpeg := await queue.get()) is not None:
                yield jpeg
        finally:
            self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)
