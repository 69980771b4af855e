"""The frames of one recording on disk: JPEG files plus an append-only JSON-lines index."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel

INDEX = "frames.jsonl"


class FrameKind(StrEnum):
    """Why a frame was taken."""

    screencast = "screencast"  # the page changed
    action = "action"  # end of an action
    step = "step"  # end of an agent step


class FrameEntry(BaseModel):
    """One stored frame. ``t`` is the wall-clock time in epoch seconds; ``label`` names what
    a screenshot belongs to (runs chooses it, e.g. ``agent:<id>:3``)."""

    seq: int
    t: float
    kind: FrameKind
    size: int
    label: str | None = None

    @property
    def filename(self) -> str:
        return f"{self.seq:07d}.jpg"


class FrameLog:
    """Appends frames to ``directory`` and reads them back. One writer per directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.frames = 0
        self.bytes = 0

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def append(self, jpeg: bytes, t: float, kind: FrameKind, label: str | None = None) -> FrameEntry:
        """Write one frame and index it. Small synchronous writes: they land in the page cache."""
        entry = FrameEntry(seq=self.frames, t=t, kind=kind, size=len(jpeg), label=label)
        (self.directory / entry.filename).write_bytes(jpeg)
        line = entry.model_dump_json(exclude_none=True) + "\n"
        with (self.directory / INDEX).open("a", encoding="utf-8") as index:
            index.write(line)
        self.frames += 1
        self.bytes += len(jpeg) + len(line)
        return entry

    def entries(self) -> list[FrameEntry]:
        """Every indexed frame, in order; a torn last line (crash mid-write) is skipped."""
        return list(_read(self.directory / INDEX))

    def read(self, entry: FrameEntry) -> bytes:
        return (self.directory / entry.filename).read_bytes()


def _read(index: Path) -> Iterator[FrameEntry]:
    if not index.exists():
        return
    with index.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                yield FrameEntry.model_validate(json.loads(line))
            except ValueError:
                continue


def directory_bytes(directory: Path) -> int:
    """What a recording directory takes on disk."""
    try:
        return sum(e.stat().st_size for e in os.scandir(directory) if e.is_file())
    except FileNotFoundError:
        return 0
