"""Recording: screencast frames and step screenshots to disk, live fan-out, retention, MP4 replay.

It records what it is told to (``runs`` decides) and knows nothing about agents or HTTP.
"""

from lanterna.recording.frames import FrameEntry, FrameKind, FrameLog
from lanterna.recording.recorder import CaptureOptions, Recorder

__all__ = ["CaptureOptions", "FrameEntry", "FrameKind", "FrameLog", "Recorder"]
