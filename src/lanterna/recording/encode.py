"""MP4 (H.264) replays of recorded frames, encoded in-process with PyAV.

Frame timing follows the recording: each frame is shown from the moment it was captured until
the next one. Idle gaps longer than ``max_gap_s`` are shortened to it, and the result says by how
much in total.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
from av.video.reformatter import ColorRange
from pydantic import BaseModel

from lanterna.recording.frames import FrameEntry

# How long the last frame stays on screen.
TAIL_S = 1.0
_TIME_BASE = Fraction(1, 1000)  # pts in milliseconds


class Replay(BaseModel):
    """An encoded replay."""

    mp4: bytes
    frames: int
    duration_s: float  # of the video
    shortened_s: float  # idle time cut from the video
    encode_s: float


def _even(n: int) -> int:
    return max(2, n - n % 2)  # yuv420p needs even dimensions


def encode_mp4(
    entries: Sequence[FrameEntry],
    read: Callable[[FrameEntry], bytes],
    *,
    width: int,
    height: int,
    max_gap_s: float = 3.0,
) -> Replay:
    """Encode ``entries`` (in capture order, at least one) as an H.264 MP4 of ``width`` × ``height``.

    Frames of another size are scaled to it. ``read`` returns a frame's JPEG bytes.
    """
    if not entries:
        raise ValueError("no frames to encode")
    started = time.perf_counter()
    width, height = _even(width), _even(height)
    decoder = av.CodecContext.create("mjpeg", "r")
    # faststart (index first, so a <video> plays while loading) rewrites the file: needs a real one.
    with tempfile.NamedTemporaryFile(suffix=".mp4") as out:
        with av.open(out.name, "w", format="mp4", options={"movflags": "+faststart"}) as container:
            last_pts, shortened = _encode(container, decoder, entries, read, width, height, max_gap_s)
        mp4 = Path(out.name).read_bytes()
    return Replay(
        mp4=mp4,
        frames=len(entries),
        duration_s=(last_pts / 1000) + TAIL_S,
        shortened_s=round(shortened, 3),
        encode_s=time.perf_counter() - started,
    )


def _encode(
    container: av.container.OutputContainer,
    decoder: av.CodecContext,
    entries: Sequence[FrameEntry],
    read: Callable[[FrameEntry], bytes],
    width: int,
    height: int,
    max_gap_s: float,
) -> tuple[int, float]:
    """Mux every frame into ``container``; the last pts (ms) and the idle time cut."""
    shortened = 0.0
    stream = container.add_stream("libx264", rate=30)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.time_base = _TIME_BASE
    stream.codec_context.time_base = _TIME_BASE
    # Screen content changes little between frames; fast preset, no B-frames for a simple VFR.
    stream.options = {"preset": "veryfast", "crf": "26", "bf": "0"}
    video_t = 0.0
    last_pts = -1
    previous: av.VideoFrame | None = None
    for i, entry in enumerate(entries):
        if i:
            gap = entry.t - entries[i - 1].t
            shortened += max(0.0, gap - max_gap_s)
            video_t += min(max(gap, 0.0), max_gap_s)
        pts = max(round(video_t * 1000), last_pts + 1)
        frame = _decode(decoder, read(entry), width, height)
        if frame is None:
            continue
        frame.pts, frame.time_base = pts, _TIME_BASE
        last_pts = pts
        previous = frame
        container.mux(stream.encode(frame))
    if previous is None:
        raise ValueError("no frame could be decoded")
    tail = previous.reformat(width, height, "yuv420p")  # a copy, with its own pts
    tail.pts, tail.time_base = last_pts + round(TAIL_S * 1000), _TIME_BASE
    container.mux(stream.encode(tail))
    container.mux(stream.encode(None))
    return last_pts, shortened


def _decode(decoder: av.CodecContext, jpeg: bytes, width: int, height: int) -> av.VideoFrame | None:
    try:
        frames = decoder.decode(av.Packet(jpeg))  # type: ignore[attr-defined]  # a VideoCodecContext
    except av.FFmpegError:
        return None  # a torn file (crash mid-write): skip it
    for frame in frames:
        if isinstance(frame, av.VideoFrame):
            # JPEG is full range, H.264 for players limited: convert, or colours come out stretched.
            return frame.reformat(
                width, height, "yuv420p", src_color_range=ColorRange.JPEG, dst_color_range=ColorRange.MPEG
            )
    return None
