"""Retention: delete finished recordings past a maximum age, then the oldest past a total size."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from pathlib import Path

from lanterna.models.retention import RetentionPolicy, RetentionReport, past_retention
from lanterna.models.time import utc_now
from lanterna.store import Store
from lanterna.store.records import RecordingRecord, RecordingStatus

__all__ = ["RetentionPolicy", "RetentionReport", "enforce"]


def _kept_at(record: RecordingRecord) -> datetime:
    return record.ended_at or record.started_at


async def enforce(
    store: Store, home: Path, policy: RetentionPolicy, now: datetime | None = None
) -> RetentionReport:
    """Apply ``policy`` once. Recordings still being made are never deleted."""
    finished = await store.recordings.finished()  # oldest first
    doomed = past_retention(
        finished,
        policy,
        now or utc_now(),
        kept_at=_kept_at,
        size=lambda record: record.bytes,
        total=await store.recordings.total_bytes(),  # recordings being made count too
    )
    report = RetentionReport()
    for record in doomed:
        await asyncio.to_thread(shutil.rmtree, home / record.directory, True)
        await store.recordings.update(record.session_id, status=RecordingStatus.deleted)
        report.deleted += 1
        report.freed_bytes += record.bytes
    return report
