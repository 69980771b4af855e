"""Retention: delete finished recordings past a maximum age, then the oldest past a total size."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field

from lanterna.models.time import utc_now
from lanterna.store import Store
from lanterna.store.records import RecordingRecord, RecordingStatus


class RetentionPolicy(BaseModel):
    """Keep a finished recording at most ``max_age_s``, and all of them within ``max_total_bytes``."""

    max_age_s: float = Field(gt=0)
    max_total_bytes: int = Field(gt=0)


class RetentionReport(BaseModel):
    deleted: int = 0
    freed_bytes: int = 0


def _expired(record: RecordingRecord, cutoff: datetime) -> bool:
    return (record.ended_at or record.started_at) < cutoff


async def enforce(
    store: Store, home: Path, policy: RetentionPolicy, now: datetime | None = None
) -> RetentionReport:
    """Apply ``policy`` once. Recordings still being made are never deleted."""
    now = now or utc_now()
    cutoff = now - timedelta(seconds=policy.max_age_s)
    report = RetentionReport()
    total = await store.recordings.total_bytes()
    for record in await store.recordings.finished():  # oldest first
        if not _expired(record, cutoff) and total <= policy.max_total_bytes:
            continue
        await asyncio.to_thread(shutil.rmtree, home / record.directory, True)
        await store.recordings.update(record.session_id, status=RecordingStatus.deleted)
        total -= record.bytes
        report.deleted += 1
        report.freed_bytes += record.bytes
    return report
