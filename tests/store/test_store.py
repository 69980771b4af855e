"""The store on a real database: SQLite always, PostgreSQL when LANTERNA_TEST_DATABASE_URL is set."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lanterna.errors import InvalidRequestError, NotFoundError
from lanterna.models.actions import ExecutionResult, Goto
from lanterna.models.agent import AgentState, AgentStep, ReasonerState
from lanterna.store import AgentRecord, SessionRecord, Store
from tests.fixtures.server import drop_lanterna_tables, postgres_url

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'lanterna.db'}"
    else:
        url = postgres_url()
        await drop_lanterna_tables(url)
    opened = await Store.open(url)
    try:
        yield opened
    finally:
        await opened.close()


def _session(tenant: str, minutes: int = 0) -> SessionRecord:
    at = NOW + timedelta(minutes=minutes)
    return SessionRecord(id=str(uuid.uuid4()), tenant=tenant, created_at=at, last_accessed_at=at)


def _result() -> ExecutionResult:
    return ExecutionResult(
        action=Goto(url="http://127.0.0.1/"), success=True, message="ok", started_at=NOW, ended_at=NOW
    )


async def test_keys_are_hashed_authenticate_and_revoke(store: Store) -> None:
    info, key = await store.keys.create("ci")
    assert key.startswith(info.prefix) and len(key) > 30
    assert await store.keys.authenticate(key) == info.key_id
    assert await store.keys.authenticate(key + "x") is None
    listed = await store.keys.list()
    assert [k.key_id for k in listed] == [info.key_id]
    assert key not in repr(listed)  # only the prefix and the hash are kept

    other, _ = await store.keys.create("other")
    with pytest.raises(InvalidRequestError, match="matches 2 keys"):
        await store.keys.revoke("lt_")
    with pytest.raises(NotFoundError, match="keys list"):
        await store.keys.revoke("key_doesnotexist")
    revoked = await store.keys.revoke(info.prefix)
    assert revoked.key_id == info.key_id and revoked.revoked_at is not None
    assert await store.keys.authenticate(key) is None
    assert await store.keys.count_active() == 1

    chosen = await store.keys.register("lt_chosen_by_the_operator", "env")
    assert await store.keys.register("lt_chosen_by_the_operator", "again") == chosen
    assert await store.keys.authenticate("lt_chosen_by_the_operator") == chosen.key_id
    assert other.key_id != chosen.key_id


async def test_sessions_are_per_tenant_paged_and_count_actions(store: Store) -> None:
    first, second, foreign = _session("a", 0), _session("a", 1), _session("b", 2)
    for record in (first, second, foreign):
        await store.sessions.create(record)

    assert await store.sessions.get("b", first.id) is None
    got = await store.sessions.get("a", first.id)
    assert got is not None and got.created_at == NOW and got.created_at.tzinfo is not None

    assert await store.sessions.add_action(first.id, _result()) == 1
    assert await store.sessions.add_action(first.id, _result()) == 2
    assert [r.action.type for r in await store.sessions.actions(first.id)] == ["goto", "goto"]

    page, total = await store.sessions.list("a", page=1, page_size=1)
    assert total == 2 and [r.id for r in page] == [second.id]  # newest first
    page, _ = await store.sessions.list("a", page=2, page_size=1)
    assert [r.id for r in page] == [first.id]

    closed = await store.sessions.update(
        second.id, status="timed_out", error="idle timeout", closed_at=NOW, only_if_active=True
    )
    assert closed is not None and closed.status == "timed_out"
    assert await store.sessions.update(second.id, status="closed", only_if_active=True) is None  # first wins
    active, total = await store.sessions.list("a", only_active=True)
    assert total == 1 and [r.id for r in active] == [first.id]

    assert await store.sessions.mark_active_as_closed("server restarted") == 2  # first and foreign
    after = await store.sessions.get("a", first.id)
    assert after is not None and (after.status, after.error) == ("closed", "server restarted")


async def test_agent_steps_advance_the_session_offset(store: Store) -> None:
    session = _session("a")
    await store.sessions.create(session)
    await store.sessions.add_action(session.id, _result())
    agent = AgentRecord(
        id=str(uuid.uuid4()),
        tenant="a",
        session_id=session.id,
        task="find",
        max_steps=5,
        created_at=NOW,
        replay_start_offset=1,
    )
    await store.agents.create(agent)
    assert (await store.agents.active_for_session(session.id)) == agent
    assert await store.agents.get("b", agent.id) is None

    step = AgentStep(
        state=ReasonerState(),
        action=Goto(url="http://127.0.0.1/"),
        success=True,
        message="ok",
        started_at=NOW,
        ended_at=NOW,
    )
    assert [await store.agents.add_step(agent.id, step) for _ in range(2)] == [1, 2]
    assert len(await store.agents.steps(agent.id)) == 2
    assert await store.agents.session_offset(session.id) == 3

    finished = await store.agents.finish(agent.id, AgentState.completed, True, "found it")
    assert finished is not None
    assert (finished.status, finished.state, finished.success) == ("closed", AgentState.completed, True)
    assert (finished.replay_start_offset, finished.replay_stop_offset) == (1, 3)
    assert await store.agents.finish(agent.id, AgentState.failed, False, "late") is None
    assert await store.agents.active_for_session(session.id) is None

    running = agent.model_copy(update={"id": str(uuid.uuid4())})
    await store.agents.create(running)
    assert await store.agents.mark_running_as_closed() == 1
    crashed = await store.agents.get("a", running.id)
    assert crashed is not None and crashed.success is False and "server restarted" in (crashed.answer or "")
    listed, total = await store.agents.list("a", only_active=True)
    assert (listed, total) == ([], 0)
