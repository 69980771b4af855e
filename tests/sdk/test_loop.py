"""The client's background loop: one async implementation serving sync and async callers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from lanterna.sdk.loop import BackgroundLoop


@pytest.fixture
def bg() -> Iterator[BackgroundLoop]:
    loop = BackgroundLoop(name="test-loop")
    yield loop
    loop.close()


async def _thread_name() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


async def _thread() -> threading.Thread:
    return threading.current_thread()


def test_sync_call_runs_on_the_clients_thread(bg: BackgroundLoop) -> None:
    assert bg.run_sync(_thread_name()) == "test-loop"


def test_errors_reach_the_caller_unchanged(bg: BackgroundLoop) -> None:
    async def boom() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        bg.run_sync(boom())


def test_sync_call_works_inside_a_running_event_loop(bg: BackgroundLoop) -> None:
    # As in `async def main(): with client.Session() as s: ...` — a blocking call inside a coroutine.
    async def main() -> str:
        return bg.run_sync(_thread_name())

    assert asyncio.run(main()) == "test-loop"


def test_state_survives_across_caller_loops(bg: BackgroundLoop) -> None:
    # An asyncio object made by one asyncio.run() keeps working in the next, because it lives on
    # the client's loop, not the caller's.
    holder: dict[str, asyncio.Event] = {}

    async def make() -> None:
        holder["event"] = asyncio.Event()

    async def use() -> bool:
        holder["event"].set()
        await asyncio.wait_for(holder["event"].wait(), 1)
        return holder["event"].is_set()

    asyncio.run(bg.run_async(make()))
    assert asyncio.run(bg.run_async(use()))
    assert bg.run_sync(use())


def test_cancelled_caller_waits_for_the_clean_up(bg: BackgroundLoop) -> None:
    cleaned = threading.Event()

    async def long_call() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            await asyncio.sleep(0.05)  # clean-up that itself awaits (e.g. an HTTP stop request)
            cleaned.set()

    async def main() -> None:
        await asyncio.wait_for(bg.run_async(long_call()), timeout=0.1)

    with pytest.raises(TimeoutError):
        asyncio.run(main())
    assert cleaned.is_set(), "the timeout reached the caller before the call had cleaned up"


def test_a_closed_loop_refuses_work_and_its_thread_ends(bg: BackgroundLoop) -> None:
    thread = bg.run_sync(_thread())
    bg.close()
    assert thread is not None and not thread.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        bg.run_sync(_thread_name())
