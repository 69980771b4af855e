"""Idle timeout and max duration end a session: the pool reaps the browser, the store says why."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lanterna.config import Settings
from lanterna.errors import ConflictError
from lanterna.models.sessions import SessionInfo, SessionRequest
from lanterna.runs.runtime import Runtime

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    started = await Runtime.start(Settings(home=tmp_path, pool_size=0, database_url=None))
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture
async def tenant(runtime: Runtime) -> str:
    """A real key: sessions of a tenant without one are closed as revoked."""
    info, _ = await runtime.store.keys.create("expiry")
    return info.key_id


async def _wait_closed(runtime: Runtime, tenant: str, session_id: str) -> SessionInfo:
    for _ in range(100):
        session = await runtime.sessions.get(tenant, session_id)
        if session.status != "active":
            return session
        await asyncio.sleep(0.1)
    raise AssertionError(f"session {session_id} is still active")


async def test_idle_and_max_duration_expire_sessions(runtime: Runtime, tenant: str) -> None:
    idle = await runtime.sessions.start(tenant, SessionRequest(idle_timeout_minutes=1))
    old = await runtime.sessions.start(tenant, SessionRequest(max_duration_minutes=1, idle_timeout_minutes=1))
    assert runtime.pool.live_count == 2
    # Minutes are the API's unit; shorten the live limits so the reaper acts within the test.
    (await runtime.sessions.live(tenant, idle.session_id)).options.idle_timeout_s = 0.5
    aging = await runtime.sessions.live(tenant, old.session_id)
    aging.options.max_duration_s = 1.0

    for session, reason in ((idle, "idle timeout"), (old, "max duration reached")):
        ended = await _wait_closed(runtime, tenant, session.session_id)
        assert (ended.status, ended.error) == ("timed_out", reason)
        with pytest.raises(ConflictError, match=f"is closed \\({reason}\\); start a new session"):
            await runtime.sessions.observe(tenant, session.session_id)
        stopped = await runtime.sessions.stop(tenant, session.session_id)
        assert (stopped.status, stopped.error) == ("closed", reason)  # stop stays idempotent
    assert runtime.pool.live_count == 0
