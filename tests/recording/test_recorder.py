"""The recording layer on its own: capture caps, retention on a real store, input validation."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from lanterna.browser import BrowserSession
from lanterna.recording import CaptureOptions, FrameKind, FrameLog, Recorder
from lanterna.recording.input import InputMessage, out_of_viewport
from lanterna.recording.retention import RetentionPolicy, enforce
from lanterna.store import SessionRecord, Store
from lanterna.store.records import RecordingRecord, RecordingStatus
from tests.fixtures.server import drop_lanterna_tables, postgres_url

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def test_screencast_is_capped_in_rate_and_ends_on_the_last_frame(
    session: BrowserSession, tmp_path: Path
) -> None:
    frames = FrameLog(tmp_path / "rec")
    recorder = Recorder(session, frames, CaptureOptions(fps=4, max_width=400, max_height=300, quality=50))
    await recorder.start()
    # A page that repaints continuously: far more frames than the cap lets through.
    await session.page.set_content(
        "<div id=c style='font-size:80px'>0</div>"
        "<script>let n = 0; setInterval(() => { document.getElementById('c').textContent = ++n }, 16)"
        "</script>"
    )
    await asyncio.sleep(2.0)
    await session.page.evaluate("() => document.body.style.background = 'rgb(0, 128, 0)'")
    await session.page.evaluate("() => { for (const id of Array(1000).keys()) clearInterval(id) }")
    shot = await recorder.screenshot(FrameKind.step, "agent:x:1")
    await asyncio.sleep(0.5)
    await recorder.stop()
    entries = frames.entries()
    screencast = [e for e in entries if e.kind is FrameKind.screencast]
    assert 4 <= len(screencast) <= 4 * 2.6 + 2, len(screencast)  # ~4 a second, never 60
    gaps = [b.t - a.t for a, b in itertools.pairwise(screencast)]
    assert min(gaps) >= 0.25 * 0.8
    assert shot is not None and shot.label == "agent:x:1"
    jpeg = frames.read(entries[-1])
    assert jpeg[:2] == b"\xff\xd8"
    assert frames.bytes > 0 and frames.frames == len(entries)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'lanterna.db'}"
    else:
        url = postgres_url()
        await drop_lanterna_tables(url)
    opened = await Store.open(url)
    try:
        yield opened
    finally:
        await opened.close()


async def _recording(
    store: Store, home: Path, *, hours_ago: float, size: int, status: RecordingStatus
) -> str:
    session_id = str(uuid.uuid4())
    at = NOW - timedelta(hours=hours_ago)
    await store.sessions.create(SessionRecord(id=session_id, tenant="t", created_at=at, last_accessed_at=at))
    directory = Path("recordings") / "t" / session_id
    (home / directory).mkdir(parents=True)
    (home / directory / "0000000.jpg").write_bytes(b"x" * size)
    await store.recordings.create(
        RecordingRecord(
            session_id=session_id,
            tenant="t",
            status=status,
            directory=str(directory),
            width=800,
            height=600,
            frames=1,
            bytes=size,
            started_at=at,
            ended_at=at,
        )
    )
    return session_id


async def test_retention_deletes_by_age_then_oldest_over_the_total_size(store: Store, tmp_path: Path) -> None:
    old = await _recording(store, tmp_path, hours_ago=100, size=10, status=RecordingStatus.finished)
    older_big = await _recording(store, tmp_path, hours_ago=5, size=600, status=RecordingStatus.finished)
    newer_big = await _recording(store, tmp_path, hours_ago=1, size=600, status=RecordingStatus.finished)
    live = await _recording(store, tmp_path, hours_ago=200, size=600, status=RecordingStatus.recording)

    report = await enforce(
        store, tmp_path, RetentionPolicy(max_age_s=72 * 3600, max_total_bytes=1300), now=NOW
    )

    assert report.deleted == 2 and report.freed_bytes == 610
    status = {sid: (await store.recordings.get("t", sid)) for sid in (old, older_big, newer_big, live)}
    assert status[old] and status[old].status is RecordingStatus.deleted
    assert status[older_big] and status[older_big].status is RecordingStatus.deleted
    assert status[newer_big] and status[newer_big].status is RecordingStatus.finished
    assert status[live] and status[live].status is RecordingStatus.recording  # never while recording
    assert not (tmp_path / "recordings" / "t" / old).exists()
    assert (tmp_path / "recordings" / "t" / newer_big).exists()
    assert await store.recordings.get("other-tenant", newer_big) is None


@pytest.mark.parametrize(
    "message",
    [
        {"input": {"type": "eval", "expression": "1"}},
        {"input": {"type": "click", "x": -1, "y": 3}},
        {"input": {"type": "key", "key": "F12"}},
        {"input": {"type": "text", "text": "x" * 201}},
        {"input": {"type": "click", "x": 1, "y": 1, "modifiers": 2}},
        {"input": {"type": "scroll", "x": 1, "y": 1, "delta_y": 10**9}},
        {"navigate": "file:///etc/passwd"},
    ],
)
def test_input_outside_the_vocabulary_is_refused(message: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        InputMessage.model_validate(message)


def test_pointer_input_must_land_inside_the_viewport() -> None:
    click = InputMessage.model_validate({"input": {"type": "click", "x": 900, "y": 10}}).input
    assert out_of_viewport(click, (800, 600)) == "(900.0, 10.0) is outside the 800x600 viewport"
    inside = InputMessage.model_validate({"input": {"type": "click", "x": 799, "y": 599}}).input
    assert out_of_viewport(inside, (800, 600)) is None
