"""Recording: what it costs an agent step and a session, the disk it takes, the replay's encoding.

Everything runs in-process through the server's own path (``Runtime``), recording on and off side
by side in one run (alternating rounds, so background load hits both alike):

- *agent step*: the time between two steps' deliveries to a subscriber, with the scripted
  reasoner (which decides instantly) clicking between two demo-shop pages: observe, click and
  navigation, record; with recording on it includes the step's screenshot (taken alongside the
  next observation) and the screencast running alongside;
- *session lifecycle*: start a session → ``goto`` a page → stop it;
- *disk per minute*: bytes written for the agent run, and for a page that repaints continuously
  (the worst case: the screencast at its frame-rate cap the whole time);
- *encoding*: the time to encode that recording as an H.264 MP4, per minute of video.

    python -m bench.recording [--steps 30] [--sessions 10] [--busy-seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stats import median, percentile
from lanterna.config import Settings
from lanterna.demo.site import DemoSite
from lanterna.models.agent import AgentEnded, AgentRequest, AgentStep
from lanterna.models.sessions import SessionRequest
from lanterna.reasoners.scripted import ScriptedReasoner
from lanterna.runs.runtime import Runtime

BUSY_PAGE = (
    "<h1 id=c style='font-size:120px'>0</h1><script>let n = 0;"
    "setInterval(() => { document.getElementById('c').textContent = ++n }, 16)</script>"
)


def _clicks(steps: int) -> list[dict[str, Any]]:
    pages = ["Products", "Contact"]
    return [{"type": "click", "selector": f"nav >> text={pages[n % 2]}"} for n in range(steps)]


async def _runtime(home: Path, recording: bool) -> tuple[Runtime, str]:
    runtime = await Runtime.start(Settings(home=home, pool_size=1, model="offline", recording=recording))
    key, _ = await runtime.store.keys.create("bench")
    return runtime, key.key_id


async def _agent_steps(
    runtime: Runtime, tenant: str, site: DemoSite, steps: int
) -> tuple[list[float], float, str]:
    """Per-step overhead (s) of one scripted agent run, and the run's wall time."""
    session = await runtime.sessions.start(tenant, SessionRequest())
    reasoner = ScriptedReasoner(_clicks(steps))
    request = AgentRequest(task="click between two pages", session_id=session.session_id, url=site.url)
    request.max_steps = steps + 2
    began = time.time()
    agent = await runtime.agents.start(tenant, request, reasoner=reasoner)
    received: list[tuple[float, AgentStep]] = []
    async for event in runtime.agents.subscribe(tenant, agent.agent_id):
        if isinstance(event, AgentEnded):
            assert event.agent.success, event.agent.answer
        else:
            received.append((time.time(), event))
    wall = time.time() - began
    await runtime.sessions.stop(tenant, session.session_id)
    # A whole step, delivery to delivery: observe, decide, click + navigation, record, deliver.
    steps_s = [received[n][0] - received[n - 1][0] for n in range(1, len(received))]
    return steps_s, wall, session.session_id


async def _lifecycles(runtime: Runtime, tenant: str, site: DemoSite, runs: int) -> list[float]:
    from lanterna.models.actions import Goto

    times = []
    for _ in range(runs):
        began = time.perf_counter()
        session = await runtime.sessions.start(tenant, SessionRequest())
        await runtime.sessions.execute(tenant, session.session_id, Goto(url=site.url))
        await runtime.sessions.stop(tenant, session.session_id)
        times.append(time.perf_counter() - began)
        await asyncio.sleep(0.5)  # let the pool refill, as between a user's sessions
    return times


async def _busy(runtime: Runtime, tenant: str, seconds: float) -> dict[str, float]:
    """Record a continuously repainting page for ``seconds``; disk and encoding figures."""
    session = await runtime.sessions.start(tenant, SessionRequest())
    async with runtime.sessions.using(tenant, session.session_id) as browser:
        await browser.page.set_content(BUSY_PAGE)
    await asyncio.sleep(seconds)
    await runtime.sessions.stop(tenant, session.session_id)
    record = await runtime.recordings.record(tenant, session.session_id)
    replay = await runtime.recordings.replay(tenant, session.session_id)
    return {
        "bytes": record.bytes,
        "frames": record.frames,
        "seconds": seconds,
        "encode_s": replay.encode_s,
        "video_s": replay.duration_s,
        "mp4_bytes": len(replay.mp4),
    }


async def measure(steps: int, sessions: int, busy_seconds: float, rounds: int = 2) -> dict[str, Any]:
    samples: dict[str, Any] = {"on": {"step": [], "life": []}, "off": {"step": [], "life": []}}
    with tempfile.TemporaryDirectory() as home, DemoSite() as site:
        for round_ in range(rounds):
            for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
                runtime, tenant = await _runtime(Path(home) / f"{mode}{round_}", mode == "on")
                try:
                    overhead, wall, session_id = await _agent_steps(runtime, tenant, site, steps)
                    samples[mode]["step"] += overhead
                    samples[mode]["life"] += await _lifecycles(runtime, tenant, site, sessions // rounds)
                    if mode == "on" and round_ == 0:
                        record = await runtime.recordings.record(tenant, session_id)
                        samples["agent_disk"] = {"bytes": record.bytes, "seconds": wall, "steps": steps}
                        samples["busy"] = await _busy(runtime, tenant, busy_seconds)
                finally:
                    await runtime.close()
    return samples


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:,.1f}"


def report(samples: dict[str, Any], steps: int) -> str:
    on, off = samples["on"], samples["off"]
    lines = [
        f"*Recording off and on, alternating rounds; {len(on['step'])} steps and "
        f"{len(on['life'])} sessions each*",
        "",
        "|  | recording off, median ms | recording on, median ms | off p95 | on p95 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, key in (("agent step, delivery to delivery (observe, click + navigation, record)", "step"),
                       ("session lifecycle: start → goto → stop", "life")):  # fmt: skip
        lines.append(
            f"| {label} | {_ms(median(off[key]))} | {_ms(median(on[key]))} | "
            f"{_ms(percentile(off[key], 95))} | {_ms(percentile(on[key], 95))} |"
        )
    busy, agent = samples["busy"], samples["agent_disk"]
    per_min = lambda b, s: b / (1024 * 1024) / (s / 60)  # noqa: E731
    lines += [
        "",
        "|  | disk per minute of recording | per step | frames kept |",
        "| --- | ---: | ---: | ---: |",
        f"| scripted agent, a click and a navigation every {agent['seconds'] / steps:.1f} s "
        f"({steps} steps) | {per_min(agent['bytes'], agent['seconds']):.1f} MiB | "
        f"{agent['bytes'] / steps / 1024:.0f} KiB | – |",
        f"| page repainting continuously (worst case, at the frame-rate cap) | "
        f"{per_min(busy['bytes'], busy['seconds']):.1f} MiB | – | "
        f"{busy['frames']} in {busy['seconds']:.0f} s |",
        "",
        "| replay encoding (H.264, in-process PyAV) | value |",
        "| --- | ---: |",
        f"| encoding time per minute of video | {busy['encode_s'] / (busy['video_s'] / 60):.1f} s |",
        f"| MP4 size per minute of video | {per_min(busy['mp4_bytes'], busy['video_s']):.2f} MiB |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.recording", description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--busy-seconds", type=float, default=20.0)
    args = parser.parse_args()
    began = time.perf_counter()
    samples = asyncio.run(measure(args.steps, args.sessions, args.busy_seconds))
    print(report(samples, args.steps))
    print(f"\n<sub>Took {time.perf_counter() - began:.0f} s.</sub>")


if __name__ == "__main__":
    main()
