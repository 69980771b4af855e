"""bench.recording runs end to end with a handful of iterations, so its code cannot rot."""

from __future__ import annotations

from bench.recording import measure, report


async def test_recording_benchmark_reports_on_and_off_side_by_side() -> None:
    samples = await measure(steps=2, sessions=1, busy_seconds=1.0, rounds=1)
    text = report(samples, steps=2)
    assert "recording off, median ms" in text and "recording on, median ms" in text
    assert "encoding time per minute of video" in text and "nan" not in text.lower()
    assert samples["busy"]["frames"] >= 1 and samples["agent_disk"]["bytes"] > 0
