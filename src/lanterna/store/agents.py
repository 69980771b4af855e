"""Agent runs and their steps."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanterna.models.agent import AgentState, AgentStep
from lanterna.models.time import utc_now
from lanterna.store.records import AgentRecord
from lanterna.store.sessions import bump_offset
from lanterna.store.tables import AgentRow, AgentStepRow, SessionRow


def _record(row: AgentRow) -> AgentRecord:
    return AgentRecord.model_validate(row, from_attributes=True)


class AgentRepository:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def create(self, record: AgentRecord) -> AgentRecord:
        async with self._sessionmaker.begin() as db:
            db.add(AgentRow(**record.model_dump(mode="python")))
        return record

    async def get(self, tenant: str, agent_id: str) -> AgentRecord | None:
        """The tenant's agent, or ``None`` (also when it belongs to another tenant)."""
        async with self._sessionmaker() as db:
            row = await db.get(AgentRow, agent_id)
            return _record(row) if row is not None and row.tenant == tenant else None

    async def list(
        self, tenant: str, *, only_active: bool = False, page: int = 1, page_size: int = 20
    ) -> tuple[list[AgentRecord], int]:
        """One page of the tenant's agents, newest first, and the total count."""
        where = [AgentRow.tenant == tenant]
        if only_active:
            where.append(AgentRow.status == "active")
        async with self._sessionmaker() as db:
            total = await db.scalar(select(func.count()).select_from(AgentRow).where(*where)) or 0
            rows = await db.scalars(
                select(AgentRow)
                .where(*where)
                .order_by(AgentRow.created_at.desc(), AgentRow.id)
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
            return [_record(r) for r in rows], total

    async def add_step(self, agent_id: str, step: AgentStep) -> int:
        """Persist one step; it also advances the session's offset. Returns the step's number (1-based)."""
        now = utc_now()
        async with self._sessionmaker.begin() as db:
            session_id = await db.scalar(select(AgentRow.session_id).where(AgentRow.id == agent_id))
            if session_id is None:
                raise LookupError(f"agent {agent_id} does not exist")
            offset = await bump_offset(db, session_id, now)
            seq = (
                await db.scalar(
                    select(func.coalesce(func.max(AgentStepRow.seq), 0)).where(
                        AgentStepRow.agent_id == agent_id
                    )
                )
                or 0
            ) + 1
            db.add(
                AgentStepRow(agent_id=agent_id, seq=seq, step=step.model_dump(mode="json"), created_at=now)
            )
            await db.execute(
                update(AgentRow).where(AgentRow.id == agent_id).values(replay_stop_offset=offset)
            )
        return seq

    async def steps(self, agent_id: str) -> builtins.list[AgentStep]:
        """Every step of the agent, in order."""
        async with self._sessionmaker() as db:
            rows = await db.scalars(
                select(AgentStepRow.step).where(AgentStepRow.agent_id == agent_id).order_by(AgentStepRow.seq)
            )
            return [AgentStep.model_validate(r) for r in rows]

    async def finish(
        self,
        agent_id: str,
        state: AgentState,
        success: bool,
        answer: str,
        closed_at: datetime | None = None,
    ) -> AgentRecord | None:
        """Close a running agent with its outcome; ``None`` if it was already closed (first one wins)."""
        async with self._sessionmaker.begin() as db:
            result = await db.execute(
                update(AgentRow)
                .where(AgentRow.id == agent_id, AgentRow.status == "active")
                .values(
                    status=state.status,  # the column (indexed for listings) follows the state
                    state=state.value,
                    success=success,
                    answer=answer,
                    closed_at=closed_at or utc_now(),
                )
                .returning(AgentRow.id)
            )
            if result.scalar() is None:
                return None
            row = await db.get(AgentRow, agent_id, populate_existing=True)
            return _record(row) if row is not None else None

    async def active_for_session(self, session_id: str) -> AgentRecord | None:
        """The agent running on this session, if any."""
        async with self._sessionmaker() as db:
            row = await db.scalar(
                select(AgentRow)
                .where(AgentRow.session_id == session_id, AgentRow.status == "active")
                .limit(1)
            )
            return _record(row) if row is not None else None

    async def session_offset(self, session_id: str) -> int:
        """The session's current trajectory offset (0 for an unknown session)."""
        async with self._sessionmaker() as db:
            return await db.scalar(select(SessionRow.offset).where(SessionRow.id == session_id)) or 0

    async def mark_running_as_closed(
        self, answer: str = "server restarted while the agent was running; start it again"
    ) -> int:
        """Fail every agent still marked active (left so by a crash); returns how many."""
        async with self._sessionmaker.begin() as db:
            result = await db.execute(
                update(AgentRow)
                .where(AgentRow.status == "active")
                .values(
                    status=AgentState.failed.status,
                    state=AgentState.failed.value,
                    success=False,
                    answer=answer,
                    closed_at=utc_now(),
                )
                .returning(AgentRow.id)
            )
            return len(result.all())
