"""The browser hosts of a Ray cluster: registration, heartbeats, and what ends with a lost one."""

from __future__ import annotations

import builtins
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanterna.models.agent import AgentState
from lanterna.models.time import utc_now
from lanterna.store.records import HostRecord, HostStatus
from lanterna.store.tables import AgentRow, HostRow, SessionRow


class LostHost(BaseModel):
    """What ended with a host: its sessions (now ``error``) and their agents (now ``failed``)."""

    host_id: str
    session_ids: list[str]
    agent_ids: list[str]


class HostRepository:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def register(self, record: HostRecord) -> None:
        async with self._sessionmaker.begin() as db:
            db.add(HostRow(**record.model_dump()))

    async def heartbeat(self, host_id: str, now: datetime | None = None) -> bool:
        """Note that the host is alive; ``False`` once it was declared lost (it must stop serving)."""
        async with self._sessionmaker.begin() as db:
            result = await db.execute(
                update(HostRow)
                .where(HostRow.id == host_id, HostRow.status == HostStatus.alive.value)
                .values(heartbeat_at=now or utc_now())
                .returning(HostRow.id)
            )
            return result.scalar() is not None

    async def get(self, host_id: str) -> HostRecord | None:
        async with self._sessionmaker() as db:
            row = await db.get(HostRow, host_id)
            return HostRecord.model_validate(row, from_attributes=True) if row is not None else None

    async def alive(self) -> builtins.list[HostRecord]:
        async with self._sessionmaker() as db:
            rows = await db.scalars(select(HostRow).where(HostRow.status == HostStatus.alive.value))
            return [HostRecord.model_validate(r, from_attributes=True) for r in rows]

    async def host_of(self, session_id: str) -> str | None:
        """The id of the host owning ``session_id`` (``None``: unknown session, or not placed)."""
        async with self._sessionmaker() as db:
            return await db.scalar(select(SessionRow.host).where(SessionRow.id == session_id))

    async def host_of_agent(self, agent_id: str) -> str | None:
        """The id of the host owning the session the agent runs (or ran) on."""
        async with self._sessionmaker() as db:
            return await db.scalar(
                select(SessionRow.host)
                .join(AgentRow, AgentRow.session_id == SessionRow.id)
                .where(AgentRow.id == agent_id)
            )

    async def mark_lost(self, host_id: str, reason: str) -> LostHost | None:
        """Declare the host lost and end what it owned, in one transaction.

        Its active sessions become ``error`` and their running agents ``failed``, both saying
        ``reason``. ``None`` when the host was already lost (the first replica to notice wins).
        """
        now = utc_now()
        async with self._sessionmaker.begin() as db:
            marked = await db.execute(
                update(HostRow)
                .where(HostRow.id == host_id, HostRow.status == HostStatus.alive.value)
                .values(status=HostStatus.lost.value, lost_reason=reason)
                .returning(HostRow.id)
            )
            if marked.scalar() is None:
                return None
            sessions = await db.execute(
                update(SessionRow)
                .where(SessionRow.host == host_id, SessionRow.status == "active")
                .values(status="error", closed_at=now, error=reason)
                .returning(SessionRow.id)
            )
            session_ids = list(sessions.scalars())
            agent_ids: list[str] = []
            if session_ids:
                agents = await db.execute(
                    update(AgentRow)
                    .where(AgentRow.session_id.in_(session_ids), AgentRow.status == "active")
                    .values(
                        status="closed",
                        state=AgentState.failed.value,
                        success=False,
                        answer=reason,
                        closed_at=now,
                    )
                    .returning(AgentRow.id)
                )
                agent_ids = list(agents.scalars())
            return LostHost(host_id=host_id, session_ids=session_ids, agent_ids=agent_ids)
