"""A client-owned event loop on a daemon thread: one async implementation, two surfaces.

Every request of a client runs on this loop. Sync methods block on the result; async
methods await it from whatever loop the caller runs. So the same ``Session`` or ``Agent``
works from plain scripts, from inside ``async def`` (even called synchronously there), and
across several ``asyncio.run`` calls, while the HTTP connection pool stays on one loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from lanterna.sdk.base import ClientClosedError

T = TypeVar("T")

# How long a cancelled call may take to clean up (stop its agent, ...) before the
# cancellation reaches the caller anyway.
CLEANUP_TIMEOUT_S = 15.0


class BackgroundLoop:
    """An asyncio loop running on its own daemon thread, started on first use."""

    def __init__(self, name: str = "lanterna-sdk") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def closed(self) -> bool:
        return self._closed

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise ClientClosedError("Client")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(target=self._main, args=(loop, ready), name=self._name, daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    @staticmethod
    def _main(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    def _spawn(self, coro: Coroutine[Any, Any, T]) -> tuple[concurrent.futures.Future[T], Callable[[], None]]:
        """Start ``coro`` on the loop; return its outcome and a function that cancels it."""
        try:
            loop = self._ensure()
        except RuntimeError:
            coro.close()
            raise
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a lanterna client's own loop cannot wait for itself; use the async methods")
        outcome: concurrent.futures.Future[T] = concurrent.futures.Future()
        tasks: list[asyncio.Task[T]] = []

        def settle(task: asyncio.Task[T]) -> None:
            if task.cancelled():
                outcome.set_exception(asyncio.CancelledError())
            elif (error := task.exception()) is not None:
                outcome.set_exception(error)
            else:
                outcome.set_result(task.result())

        def start() -> None:
            task = loop.create_task(coro)
            task.add_done_callback(settle)
            tasks.append(task)

        def cancel() -> None:
            # Scheduled after start() on the same loop, so the task exists by then.
            loop.call_soon_threadsafe(lambda: [t.cancel() for t in tasks])

        loop.call_soon_threadsafe(start)
        return outcome, cancel

    def run_sync(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and block until it ends."""
        outcome, cancel = self._spawn(coro)
        try:
            return outcome.result()
        except BaseException:
            if not outcome.done():  # interrupted (Ctrl-C): let the call clean up first
                cancel()
                with contextlib.suppress(BaseException):
                    outcome.result(timeout=CLEANUP_TIMEOUT_S)
            raise

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` running on the loop, from any other event loop.

        If the caller is cancelled, the call is cancelled too and given a bounded time to
        clean up (an agent run stops its agent) before the cancellation propagates.
        """
        outcome, cancel = self._spawn(coro)
        waiter = asyncio.wrap_future(outcome)
        try:
            return await asyncio.shield(waiter)
        except asyncio.CancelledError:
            if not waiter.done():
                cancel()
                await asyncio.wait({waiter}, timeout=CLEANUP_TIMEOUT_S)
            if waiter.done() and not waiter.cancelled():
                waiter.exception()  # retrieved, so asyncio does not log it as never retrieved
            raise

    def fire(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start ``coro`` on the loop without waiting (clean-ups triggered by garbage collection)."""
        if self._closed or self._loop is None:
            coro.close()
            return
        loop = self._loop

        def start() -> None:
            task = loop.create_task(coro)
            self._background.add(task)
            task.add_done_callback(self._background.discard)

        try:
            loop.call_soon_threadsafe(start)
        except RuntimeError:  # the loop is already closed
            coro.close()

    def close(self, final: Coroutine[Any, Any, Any] | None = None) -> None:
        """Run ``final`` (if given) on the loop, then stop the loop and its thread. Idempotent."""
        if final is not None:
            if self._loop is not None and not self._closed:
                with contextlib.suppress(Exception):
                    self.run_sync(final)
            else:
                final.close()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is not None and thread is not None:
            if self._background:
                with contextlib.suppress(Exception):
                    asyncio.run_coroutine_threadsafe(self._drain(), loop).result(CLEANUP_TIMEOUT_S)
            loop.call_soon_threadsafe(loop.stop)
            if thread is not threading.current_thread():
                thread.join(timeout=CLEANUP_TIMEOUT_S)

    async def _drain(self) -> None:
        await asyncio.wait(set(self._background), timeout=CLEANUP_TIMEOUT_S)
