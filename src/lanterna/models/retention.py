"""Retention: what to delete of kept things, by age and then by total size (oldest first)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel, Field

Kept = TypeVar("Kept")


class RetentionPolicy(BaseModel):
    """Keep a thing at most ``max_age_s``, and all of them together within ``max_total_bytes``."""

    max_age_s: float = Field(gt=0)
    max_total_bytes: int = Field(gt=0)


class RetentionReport(BaseModel):
    deleted: int = 0
    freed_bytes: int = 0


def past_retention(
    kept: Sequence[Kept],
    policy: RetentionPolicy,
    now: datetime,
    *,
    kept_at: Callable[[Kept], datetime],
    size: Callable[[Kept], int],
    total: int | None = None,
) -> list[Kept]:
    """Of ``kept`` (oldest first), those to delete: every one older than the policy's age, then
    the oldest ones until what is left fits ``max_total_bytes``. ``total`` is the size of all that
    is kept when ``kept`` is only a part of it (default: the sizes of ``kept``)."""
    cutoff = now - timedelta(seconds=policy.max_age_s)
    left = sum(size(k) for k in kept) if total is None else total
    doomed = []
    for item in kept:
        if kept_at(item) >= cutoff and left <= policy.max_total_bytes:
            continue
        doomed.append(item)
        left -= size(item)
    return doomed
