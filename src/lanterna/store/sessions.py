"""Browser sessions and the actions executed in them."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanterna.models.actions import ExecutionResult
from lanterna.models.status import SessionStatus
from lanterna.models.time import utc_now
from lanterna.store.records import SessionRecord
from lanterna.store.tables import SessionActionRow, SessionRow

_UNSET: object = object()


def _record(row: SessionRow) -> SessionRecord:
    return SessionRecord.model_validate(row, from_attributes=True)


async def bump_offset(db: AsyncSession, session_id: str, now: datetime) -> int:
    """Add one to a session's trajectory offset and return the new value (in the caller's transaction)."""
    offset = await db.scalar(
        update(SessionRow)
        .where(SessionRow.id == session_id)
        .values(offset=SessionRow.offset + 1, last_accessed_at=now)
        .returning(SessionRow.offset)
    )
    if offset is None:
        raise LookupError(f"session {session_id} does not exist")
    return offset


class SessionRepository:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def create(self, record: SessionRecord) -> SessionRecord:
        async with self._sessionmaker.begin() as db:
            db.add(SessionRow(**record.model_dump()))
        return record

    async def get(self, tenant: str, session_id: str) -> SessionRecord | None:
        """The tenant's session, or ``None`` (also when it belongs to another tenant)."""
        async with self._sessionmaker() as db:
            row = await db.get(SessionRow, session_id)
            return _record(row) if row is not None and row.tenant == tenant else None

    async def list(
        self, tenant: str, *, only_active: bool = False, page: int = 1, page_size: int = 20
    ) -> tuple[list[SessionRecord], int]:
        """One page of the tenant's sessions, newest first, and the total count."""
        where = [SessionRow.tenant == tenant]
        if only_active:
            where.append(SessionRow.status == "active")
        async with self._sessionmaker() as db:
            total = await db.scalar(select(func.count()).select_from(SessionRow).where(*where)) or 0
            rows = await db.scalars(
                select(SessionRow)
                .where(*where)
                .order_by(SessionRow.created_at.desc(), SessionRow.id)
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
            return [_record(r) for r in rows], total

    async def update(
        self,
        session_id: str,
        *,
        status: SessionStatus | None = None,
        closed_at: datetime | None = None,
        error: str | object | None = _UNSET,
        last_accessed_at: datetime | None = None,
        only_if_active: bool = False,
    ) -> SessionRecord | None:
        """Change the given fields; returns the record, or ``None`` when nothing matched.

        ``only_if_active`` makes a close race-free: the first closer wins, later ones change nothing.
        """
        values: dict[str, object] = {}
        if status is not None:
            values["status"] = status
        if closed_at is not None:
            values["closed_at"] = closed_at
        if error is not _UNSET:
            values["error"] = error
        if last_accessed_at is not None:
            values["last_accessed_at"] = last_accessed_at
        async with self._sessionmaker.begin() as db:
            statement = update(SessionRow).where(SessionRow.id == session_id)
            if only_if_active:
                statement = statement.where(SessionRow.status == "active")
            result = await db.execute(statement.values(**values).returning(SessionRow.id))
            if result.scalar() is None:
                return None
            row = await db.get(SessionRow, session_id, populate_existing=True)
            return _record(row) if row is not None else None

    async def add_action(self, session_id: str, result: ExecutionResult) -> int:
        """Persist one executed action; returns the session's new offset (the action's position)."""
        now = utc_now()
        async with self._sessionmaker.begin() as db:
            offset = await bump_offset(db, session_id, now)
            db.add(
                SessionActionRow(
                    session_id=session_id, seq=offset, result=result.model_dump(mode="json"), created_at=now
                )
            )
        return offset

    async def actions(self, session_id: str) -> builtins.list[ExecutionResult]:
        """Every action executed in the session, in order."""
        async with self._sessionmaker() as db:
            rows = await db.scalars(
                select(SessionActionRow.result)
                .where(SessionActionRow.session_id == session_id)
                .order_by(SessionActionRow.seq)
            )
            return [ExecutionResult.model_validate(r) for r in rows]

    async def mark_active_as_closed(self, error: str = "server restarted") -> int:
        """Close every session still marked active (left so by a crash); returns how many."""
        async with self._sessionmaker.begin() as db:
            result = await db.execute(
                update(SessionRow)
                .where(SessionRow.status == "active")
                .values(status="closed", closed_at=utc_now(), error=error)
                .returning(SessionRow.id)
            )
            return len(result.all())
