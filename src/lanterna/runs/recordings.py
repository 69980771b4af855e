"""What is recorded and who may see it: one recorder per live session, replays, live frames.

``runs`` decides what to record: every session unless it started with ``recording=false`` (or
the server runs with ``LANTERNA_RECORDING=false``), a screenshot after each action and agent
step. Frames live under ``LANTERNA_HOME/recordings/<tenant>/<session>``; the store indexes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lanterna.browser import BrowserSession
from lanterna.config import Settings
from lanterna.errors import ConflictError, InvalidRequestError, NotFoundError
from lanterna.models.time import utc_now
from lanterna.recording import CaptureOptions, FrameEntry, FrameKind, FrameLog, Recorder
from lanterna.recording.encode import Replay, encode_mp4
from lanterna.recording.input import InputEvent, dispatch, out_of_viewport
from lanterna.recording.retention import RetentionPolicy, enforce
from lanterna.store import AgentRecord, Store
from lanterna.store.records import RecordingRecord, RecordingStatus

log = logging.getLogger(__name__)

RECORDINGS_DIR = "recordings"


def step_label(agent_id: str, step: int) -> str:
    """How an agent step's screenshot is labelled in the recording."""
    return f"agent:{agent_id}:{step}"


@dataclass
class _Live:
    tenant: str
    record: RecordingRecord
    recorder: Recorder
    started: asyncio.Future[None]


class RecordingService:
    """Recorders of this process's live sessions, and everything read back from recordings."""

    def __init__(self, *, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._live: dict[str, _Live] = {}
        self._retention: asyncio.Task[None] | None = None
        self.capture = CaptureOptions(
            fps=settings.recording_fps,
            max_width=settings.recording_max_width,
            max_height=settings.recording_max_height,
            quality=settings.recording_quality,
        )
        self.policy = RetentionPolicy(
            max_age_s=settings.recording_max_age_hours * 3600,
            max_total_bytes=int(settings.recording_max_total_mb * 1024 * 1024),
        )

    # ----- recording ---------------------------------------------------------------------

    async def begin(self, tenant: str, session_id: str, browser: BrowserSession, *, enabled: bool) -> None:
        """Start recording a new session (or note that it is not recorded)."""
        on = enabled and self._settings.recording
        width, height = browser.viewport
        directory = Path(RECORDINGS_DIR) / tenant / session_id
        record = RecordingRecord(
            session_id=session_id,
            tenant=tenant,
            status=RecordingStatus.recording if on else RecordingStatus.off,
            directory=str(directory),
            width=width,
            height=height,
            started_at=utc_now(),
        )
        await self._store.recordings.create(record)
        if not on:
            return
        recorder = Recorder(browser, FrameLog(self._settings.home / directory), self.capture)
        # The screencast starts alongside the session's first request instead of delaying its start.
        started = asyncio.ensure_future(self._start(recorder, session_id))
        self._live[session_id] = _Live(tenant, record, recorder, started)

    @staticmethod
    async def _start(recorder: Recorder, session_id: str) -> None:
        try:
            await recorder.start()
        except Exception:  # a session without its recording is still a session
            log.exception("could not start recording session %s", session_id)

    async def end(self, session_id: str, _reason: str = "") -> None:
        """Stop recording ``session_id`` (a session-close listener)."""
        live = self._live.pop(session_id, None)
        if live is None:
            return
        await live.started
        await live.recorder.stop()
        frames = live.recorder.frames
        await self._store.recordings.update(
            session_id,
            status=RecordingStatus.finished,
            frames=frames.frames,
            bytes=frames.bytes,
            ended_at=utc_now(),
        )

    def screenshot(self, session_id: str, kind: FrameKind, label: str | None = None) -> None:
        """A screenshot of the session's active tab into its recording, if it is recorded. It is
        taken alongside what follows (the next observation, the answer to the client): the next
        action waits for it (``settle``), and so does reading it back."""
        live = self._live.get(session_id)
        if live is not None:
            live.recorder.screenshot_soon(kind, label)

    async def settle(self, session_id: str) -> None:
        """Wait for the session's screenshots under way."""
        live = self._live.get(session_id)
        if live is not None:  # a screenshot asked before the recorder started waits for it
            await live.recorder.settle()

    # ----- reading back ------------------------------------------------------------------

    async def record(self, tenant: str, session_id: str) -> RecordingRecord:
        record = await self._store.recordings.get(tenant, session_id)
        if record is None:
            raise NotFoundError(
                f"session {session_id} has no recording; list your sessions with GET /sessions"
            )
        return record

    def _frames(self, record: RecordingRecord) -> FrameLog:
        live = self._live.get(record.session_id)
        return live.recorder.frames if live is not None else FrameLog(self._settings.home / record.directory)

    async def entries(self, tenant: str, session_id: str) -> list[FrameEntry]:
        """The frames recorded so far."""
        record = await self.record(tenant, session_id)
        await self.settle(session_id)
        return await asyncio.to_thread(self._frames(record).entries)

    async def frame(self, tenant: str, session_id: str, seq: int) -> bytes:
        """One recorded frame's JPEG."""
        record = await self.record(tenant, session_id)
        await self.settle(session_id)
        log_ = self._frames(record)
        for entry in await asyncio.to_thread(log_.entries):
            if entry.seq == seq:
                return await asyncio.to_thread(log_.read, entry)
        raise NotFoundError(f"session {session_id} has no frame {seq}")

    async def labelled(self, tenant: str, session_id: str, label: str) -> bytes:
        """The screenshot labelled ``label`` (e.g. an agent step's)."""
        record = await self.record(tenant, session_id)
        await self.settle(session_id)
        log_ = self._frames(record)
        for entry in reversed(await asyncio.to_thread(log_.entries)):
            if entry.label == label:
                return await asyncio.to_thread(log_.read, entry)
        raise NotFoundError(f"no screenshot was recorded for {label.replace(':', ' ')}")

    async def replay(
        self, tenant: str, session_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> Replay:
        """An MP4 of the session's recording (or of the window ``since``..``until``).

        ``NotFoundError`` when nothing was recorded, recording was off or retention removed it;
        ``ConflictError`` while the session is still recording.
        """
        record = await self.record(tenant, session_id)
        if record.status is RecordingStatus.off:
            raise NotFoundError(f"session {session_id} was started with recording off; nothing to replay")
        if record.status is RecordingStatus.deleted:
            raise NotFoundError(f"the recording of session {session_id} was removed by the retention policy")
        if until is None and (record.status is RecordingStatus.recording or session_id in self._live):
            raise ConflictError(
                f"session {session_id} is still running; its replay is ready once it is stopped "
                f"(DELETE /sessions/{session_id}/stop)"
            )
        await self.settle(session_id)
        entries = await asyncio.to_thread(self._frames(record).entries)
        window = _window(entries, since, until)
        if not window:
            raise NotFoundError(f"session {session_id} recorded no frames in that time; nothing to replay")
        frames = self._frames(record)
        return await asyncio.to_thread(
            encode_mp4,
            window,
            frames.read,
            width=record.width,
            height=record.height,
            max_gap_s=self._settings.replay_max_gap_s,
        )

    async def replay_agent(self, tenant: str, agent_id: str) -> Replay:
        """An MP4 of the agent's own time window in its session; ``ConflictError`` while it runs."""
        agent = await self._agent(tenant, agent_id)
        if agent.status == "active":
            raise ConflictError(
                f"agent {agent_id} is still running; its replay is ready once it ends "
                f"(wait for it, or DELETE /agents/{agent_id}/stop)"
            )
        return await self.replay(tenant, agent.session_id, since=agent.created_at, until=agent.closed_at)

    async def step_screenshot(self, tenant: str, agent_id: str, step: int) -> bytes:
        """The screenshot taken at the end of the agent's step ``step`` (counted from 1)."""
        agent = await self._agent(tenant, agent_id)
        return await self.labelled(tenant, agent.session_id, step_label(agent_id, step))

    async def _agent(self, tenant: str, agent_id: str) -> AgentRecord:
        agent = await self._store.agents.get(tenant, agent_id)
        if agent is None:
            raise NotFoundError(f"agent {agent_id} not found; list your agents with GET /agents")
        return agent

    # ----- live view ---------------------------------------------------------------------

    async def live_frames(self, tenant: str, session_id: str) -> AsyncIterator[bytes]:
        """The latest frame, then each new one, while the session records."""
        live = await self._live_of(tenant, session_id)
        async for jpeg in live.recorder.hub.subscribe():
            yield jpeg

    async def check_live(self, tenant: str, session_id: str) -> tuple[int, int]:
        """The viewport of the tenant's session if it is recording now; else ``NotFoundError``
        (not the tenant's) or ``ConflictError`` (ended, or recording off)."""
        return (await self._live_of(tenant, session_id)).recorder.browser.viewport

    async def send_input(self, tenant: str, session_id: str, event: InputEvent) -> None:
        """Dispatch a viewer's mouse or keyboard event to the session's recorded tab."""
        live = await self._live_of(tenant, session_id)
        problem = out_of_viewport(event, live.recorder.browser.viewport)
        if problem is not None:
            raise InvalidRequestError(problem)
        cdp = live.recorder.page_cdp
        if cdp is None:
            raise ConflictError(f"session {session_id} has no tab to send input to")
        live.recorder.browser.touch()
        await dispatch(cdp, event)

    async def _live_of(self, tenant: str, session_id: str) -> _Live:
        live = self._live.get(session_id)
        if live is not None and live.tenant == tenant:
            return live
        record = await self.record(tenant, session_id)
        if record.status is RecordingStatus.off:
            raise ConflictError(f"session {session_id} was started with recording off; there is no live view")
        raise ConflictError(f"session {session_id} is not running; watch its replay instead")

    # ----- retention ---------------------------------------------------------------------

    def start(self) -> None:
        """Enforce the retention policy in the background."""
        self._retention = asyncio.create_task(self._retain(), name="recording-retention")

    async def _retain(self) -> None:
        while True:
            try:
                report = await enforce(self._store, self._settings.home, self.policy)
                if report.deleted:
                    log.info("retention removed %d recordings (%d bytes)", report.deleted, report.freed_bytes)
            except Exception:
                log.exception("recording retention failed")
            await asyncio.sleep(self._settings.recording_retention_interval_s)

    async def close(self) -> None:
        if self._retention is not None:
            self._retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention
        await asyncio.gather(*(self.end(sid) for sid in list(self._live)), return_exceptions=True)


def _window(entries: list[FrameEntry], since: datetime | None, until: datetime | None) -> list[FrameEntry]:
    """Frames in the window, starting with the last one before it (what the page showed then).
    In time order: a screenshot is dated when it was asked for, and may be stored after a frame."""
    entries = sorted(entries, key=lambda e: e.t)
    start = since.timestamp() if since else float("-inf")
    end = until.timestamp() if until else float("inf")
    before = [e for e in entries if e.t < start]
    inside = [e for e in entries if start <= e.t <= end]
    return before[-1:] + inside
