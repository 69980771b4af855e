"""Session recordings: one row per session, pointing at its frames on disk."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanterna.store.records import RecordingRecord, RecordingStatus
from lanterna.store.tables import RecordingRow


def _record(row: RecordingRow) -> RecordingRecord:
    return RecordingRecord.model_validate(row, from_attributes=True)


class RecordingRepository:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def create(self, record: RecordingRecord) -> RecordingRecord:
        async with self._sessionmaker.begin() as db:
            db.add(RecordingRow(**record.model_dump()))
        return record

    async def get(self, tenant: str, session_id: str) -> RecordingRecord | None:
        """The tenant's recording of ``session_id``; None for another tenant's."""
        async with self._sessionmaker() as db:
            row = await db.get(RecordingRow, session_id)
            return _record(row) if row is not None and row.tenant == tenant else None

    async def update(
        self,
        session_id: str,
        *,
        status: RecordingStatus | None = None,
        frames: int | None = None,
        bytes: int | None = None,
        ended_at: datetime | None = None,
    ) -> None:
        values = {
            k: v
            for k, v in {"status": status, "frames": frames, "bytes": bytes, "ended_at": ended_at}.items()
            if v is not None
        }
        async with self._sessionmaker.begin() as db:
            await db.execute(
                update(RecordingRow).where(RecordingRow.session_id == session_id).values(**values)
            )

    async def finished(self) -> builtins.list[RecordingRecord]:
        """Every finished recording still on disk, oldest first (what retention may delete)."""
        async with self._sessionmaker() as db:
            rows = await db.scalars(
                select(RecordingRow)
                .where(RecordingRow.status == RecordingStatus.finished)
                .order_by(RecordingRow.started_at)
            )
            return [_record(r) for r in rows]

    async def total_bytes(self) -> int:
        """Disk taken by every recording not yet deleted."""
        async with self._sessionmaker() as db:
            total = await db.scalar(
                select(func.coalesce(func.sum(RecordingRow.bytes), 0)).where(
                    RecordingRow.status.in_([RecordingStatus.finished, RecordingStatus.recording])
                )
            )
            return int(total or 0)

    async def mark_recording_as_finished(self, ended_at: datetime) -> int:
        """After a crash: recordings left open are finished as they are."""
        async with self._sessionmaker.begin() as db:
            result = await db.execute(
                update(RecordingRow)
                .where(RecordingRow.status == RecordingStatus.recording)
                .values(status=RecordingStatus.finished, ended_at=ended_at)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
