"""Recording routes: replays (MP4), recorded frames, step screenshots, and the live-view WebSocket."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, WebSocket
from fastapi.responses import Response
from pydantic import ValidationError

from lanterna.errors import LanternaError, validation_details
from lanterna.recording import FrameEntry
from lanterna.recording.encode import Replay
from lanterna.recording.input import InputMessage
from lanterna.runs.recordings import RecordingService
from lanterna.server.auth import CurrentRuntime, Tenant, authenticate, runtime_of
from lanterna.server.errors import refuse_websocket
from lanterna.server.revocation import serve_until_revoked
from lanterna.server.streams import serve_until_either_ends
from lanterna.wire import ErrorBody

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, invalid or revoked API key"},
    404: {"model": ErrorBody, "description": "Not yours, or nothing recorded (recording off, removed)"},
    409: {"model": ErrorBody, "description": "Still running: the replay is ready once it ends"},
}
_MP4: dict[int | str, dict[str, Any]] = {200: {"content": {"video/mp4": {}}, "description": "H.264 MP4"}}
_JPEG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/jpeg": {}}, "description": "JPEG"}}

# Header telling how much idle time the replay leaves out (gaps longer than LANTERNA_REPLAY_MAX_GAP_S).
SHORTENED_HEADER = "X-Lanterna-Idle-Shortened-S"
# Live view: what a viewer may send.
MAX_INPUT_MESSAGE = 2048
INPUT_PER_SECOND = 30

router = APIRouter(tags=["recording"], responses=_ERRORS)


def _mp4(replay: Replay, name: str) -> Response:
    return Response(
        replay.mp4,
        media_type="video/mp4",
        headers={
            "Content-Disposition": f'inline; filename="{name}.mp4"',
            SHORTENED_HEADER: f"{replay.shortened_s:.3f}",
            "X-Lanterna-Replay-Frames": str(replay.frames),
            "Cache-Control": "private, max-age=60",
        },
    )


def _jpeg(jpeg: bytes) -> Response:
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/sessions/{session_id}/replay", response_class=Response, responses=_MP4)
async def replay_session(session_id: str, runtime: CurrentRuntime, tenant: Tenant) -> Response:
    """The session's recording as an H.264 MP4, once the session is stopped. Timing follows the
    run; idle gaps longer than a few seconds are shortened (header ``X-Lanterna-Idle-Shortened-S``).
    Recording off, nothing recorded or removed by retention: 404; still running: 409."""
    return _mp4(await runtime.recordings.replay(tenant, session_id), f"session-{session_id}")


@router.get("/agents/{agent_id}/replay", response_class=Response, responses=_MP4)
async def replay_agent(agent_id: str, runtime: CurrentRuntime, tenant: Tenant) -> Response:
    """The agent's own time window of its session's recording as an H.264 MP4, once it has ended."""
    return _mp4(await runtime.recordings.replay_agent(tenant, agent_id), f"agent-{agent_id}")


@router.get("/sessions/{session_id}/recording/frames", response_model=list[FrameEntry])
async def list_frames(session_id: str, runtime: CurrentRuntime, tenant: Tenant) -> list[FrameEntry]:
    """Every recorded frame: its number, time (epoch seconds), why it was taken and its label."""
    return await runtime.recordings.entries(tenant, session_id)


@router.get("/sessions/{session_id}/recording/frames/{seq}", response_class=Response, responses=_JPEG)
async def get_frame(
    session_id: str, seq: Annotated[int, Path(ge=0, le=10**9)], runtime: CurrentRuntime, tenant: Tenant
) -> Response:
    """One recorded frame as JPEG."""
    return _jpeg(await runtime.recordings.frame(tenant, session_id, seq))


@router.get("/agents/{agent_id}/steps/{step}/screenshot", response_class=Response, responses=_JPEG)
async def step_screenshot(
    agent_id: str, step: Annotated[int, Path(ge=1, le=10_000)], runtime: CurrentRuntime, tenant: Tenant
) -> Response:
    """The screenshot taken at the end of the agent's step ``step`` (from 1), as JPEG."""
    return _jpeg(await runtime.recordings.step_screenshot(tenant, agent_id, step))


@router.websocket("/sessions/{session_id}/recording")
async def live_view(websocket: WebSocket, session_id: str) -> None:
    """The session's frames as binary JPEG messages: the latest first, then each new one, until
    the session ends. Authenticate with ``?token=<api key>``. With ``?interactive=true`` the viewer
    may send ``{"input": {"type": "click"|"scroll"|"text"|"key", ...}}`` text messages (x, y in
    viewport pixels); problems come back as ``{"error": "..."}``. The first message is a text one:
    ``{"viewport": {"width": w, "height": h}, "interactive": bool}``."""
    recordings = runtime_of(websocket).recordings
    try:
        tenant = await authenticate(websocket)
        width, height = await recordings.check_live(tenant, session_id)
    except LanternaError as exc:
        await refuse_websocket(websocket, exc.status, exc.message)
        return
    interactive = websocket.query_params.get("interactive", "").lower() == "true"
    work = _serve(websocket, recordings, tenant, session_id, interactive, {"width": width, "height": height})
    await serve_until_revoked(websocket, tenant, "recording", work)


async def _serve(
    websocket: WebSocket,
    recordings: RecordingService,
    tenant: str,
    session_id: str,
    interactive: bool,
    viewport: dict[str, int],
) -> None:
    await websocket.accept()
    await websocket.send_json({"viewport": viewport, "interactive": interactive})
    await serve_until_either_ends(
        websocket,
        _send_frames(websocket, recordings, tenant, session_id),
        _receive(websocket, recordings, tenant, session_id, interactive),
        close_reason="the session ended",
    )


async def _send_frames(
    websocket: WebSocket, recordings: RecordingService, tenant: str, session_id: str
) -> None:
    async for jpeg in recordings.live_frames(tenant, session_id):
        await websocket.send_bytes(jpeg)


async def _receive(
    websocket: WebSocket, recordings: RecordingService, tenant: str, session_id: str, interactive: bool
) -> None:
    budget = _Budget(INPUT_PER_SECOND)
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            continue
        problem = None
        if not interactive:
            problem = "this live view is read-only; open it with ?interactive=true to send input"
        elif len(text) > MAX_INPUT_MESSAGE:
            problem = f"input messages are limited to {MAX_INPUT_MESSAGE} characters"
        elif not budget.take():
            problem = f"too much input: at most {INPUT_PER_SECOND} events a second"
        else:
            try:
                event = InputMessage.model_validate_json(text).input
                await recordings.send_input(tenant, session_id, event)
            except ValidationError as exc:
                problem = "invalid input: " + validation_details(exc)
            except LanternaError as exc:
                problem = exc.message
            except Exception as exc:  # the tab went away under the event
                problem = f"the input could not be delivered: {exc}"
        if problem is not None:
            await websocket.send_json({"error": problem})


class _Budget:
    """A token bucket: ``rate`` events a second, bursts up to ``rate``."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
