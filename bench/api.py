"""API latency: status polling under load, and live step delivery over WebSocket.

**Status polling.** One finished agent (the offline reasoner found the demo shop's contact
email); ``GET /agents/{id}`` is then sent at a fixed rate (``--rate``) for 10 s, open loop:
request *i* is sent at ``t0 + i / rate`` whether or not earlier ones have been answered, and its
latency is counted from that scheduled time, so a stalled server cannot hide its queue
(no coordinated omission). Errors are non-200 answers and transport failures. The load generator
(Python, plain asyncio HTTP/1.1 over up to 256 keep-alive connections) runs on the same cores as
the server.

The same load is sent again while scripted agents run on their own sessions (``wait`` steps of
250 ms, persisted as they happen), so the answers compete with agent loops and step writes.
Server CPU per request is the server process's CPU time (all its threads, not the browsers)
during the load, minus what it spent in an equal time without the load, divided by the requests.

**WebSocket delivery.** An agent with the scripted reasoner runs many quick steps (``wait``
actions of 0-1 ms) while a client follows ``/agents/{id}/debug/logs``. For each step the latency
is the client's receive time minus the step's ``ended_at`` (the moment its action ended, stamped by
the server on the same machine and clock): it covers persisting the step to SQLite, fanning it out
and the WebSocket frame. Steps that ended before the subscriber connected are left out.

    python -m bench.api [--rate 200] [--duration 10] [--ws-steps 100] [--agents 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

import httpx
import psutil
from websockets.asyncio.client import connect

from bench.report import BenchConfig, BenchSection, Table, ms
from bench.server import BenchServer
from bench.stats import median, percentile
from lanterna.demo.site import DemoSite

WAIT_AGENT_S = 120.0
RUNNING_AGENTS = 20  # agents running during the second status load (1 in short runs)
RUNNING_STEP_MS = 250
MAX_AGENT_STEPS = 190  # the API takes max_steps up to 200
LEAD_IN_MS = 1000  # the scripted agent's first action: time for the subscriber to connect


@dataclass
class Load:
    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    body_bytes: int = 0


class _Connection:
    """One keep-alive HTTP/1.1 connection: the load generator's own client, far cheaper per
    request than httpx's pool (which scans its queue for every request and, with thousands
    queued, spends more CPU than the server it measures)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def get(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = next(
            (int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:")),
            0,
        )
        return status, await self.reader.readexactly(length)


async def paced_load(
    url: str, headers: dict[str, str], path: str, rate: float, duration_s: float, connections: int = 256
) -> Load:
    """``GET path`` at ``rate`` per second for ``duration_s``, open loop, over up to ``connections``
    keep-alive connections (a request waits for a free one, its latency counting from its time)."""
    host, port = url.removeprefix("http://").split(":")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "\r\n"
    ).encode()
    load = Load(sent=max(1, round(rate * duration_s)))
    loop = asyncio.get_running_loop()
    idle: list[_Connection] = []
    opened = 0
    freed = asyncio.Condition()
    t0 = loop.time() + 0.2

    async def take() -> _Connection:
        nonlocal opened
        async with freed:
            while not idle and opened >= connections:
                await freed.wait()
            if idle:
                return idle.pop()
            opened += 1
        return _Connection(*await asyncio.open_connection(host, int(port)))

    async def give_back(connection: _Connection | None) -> None:
        nonlocal opened
        async with freed:
            if connection is None:
                opened -= 1
            else:
                idle.append(connection)
            freed.notify()

    async def one(i: int) -> None:
        scheduled = t0 + i / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        connection: _Connection | None = None
        try:
            connection = await take()
            status, body = await asyncio.wait_for(connection.get(request), 30)
        except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError) as exc:
            load.errors.append(f"{type(exc).__name__}: {exc}")
            if connection is not None:
                connection.writer.close()
            await give_back(None)
            return
        await give_back(connection)
        if status != 200:
            load.errors.append(f"HTTP {status}")
            return
        load.latencies.append(loop.time() - scheduled)
        load.body_bytes = len(body)

    await asyncio.gather(*(one(i) for i in range(load.sent)))
    load.seconds = loop.time() - t0
    for connection in idle:
        connection.writer.close()
    return load


def server_cpu_s(server: BenchServer) -> float:
    """CPU seconds (user + system, every thread) the server process has used so far."""
    assert server.process is not None
    times = psutil.Process(server.process.pid).cpu_times()
    return float(times.user + times.system)


@dataclass
class StatusLoad:
    load: Load
    cpu_per_request_s: float | None


async def measured_load(server: BenchServer, path: str, rate: float, duration_s: float) -> StatusLoad:
    """``paced_load`` and the server CPU it cost: CPU during the load minus CPU in as long a quiet time."""
    quiet_start = server_cpu_s(server)
    await asyncio.sleep(duration_s)
    background = server_cpu_s(server) - quiet_start
    start = server_cpu_s(server)
    load = await paced_load(server.url, server.headers, path, rate, duration_s)
    spent = server_cpu_s(server) - start - background * (load.seconds / duration_s)
    answered = len(load.latencies)
    return StatusLoad(load, max(spent, 0.0) / answered if answered else None)


async def start_waiting_agents(
    client: httpx.AsyncClient, count: int, seconds: float
) -> list[tuple[str, str]]:
    """``count`` scripted agents that wait in ``RUNNING_STEP_MS`` steps for about ``seconds``; all
    running (a first step taken) on return. Returns (session id, agent id) pairs."""
    steps = min(MAX_AGENT_STEPS, max(1, round(seconds * 1000 / RUNNING_STEP_MS)))
    script = [{"type": "wait", "time_ms": RUNNING_STEP_MS + n % 7} for n in range(steps)]
    body = {"task": "wait", "reasoning_model": "scripted:" + json.dumps(script), "max_steps": steps + 3}
    starting = asyncio.Semaphore(4)  # a few browsers launching at once, not twenty

    async def start_one() -> tuple[str, str]:
        async with starting:
            return await _run_agent(client, body)

    started = await asyncio.gather(*(start_one() for _ in range(count)))
    deadline = time.monotonic() + WAIT_AGENT_S
    for _, agent_id in started:
        while True:
            status = (await client.get(f"/agents/{agent_id}")).json()
            if status["status"] != "active":
                raise RuntimeError(f"agent {agent_id} ended before the load: {status.get('answer')}")
            if status["steps"]:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"agent {agent_id} took no step within {WAIT_AGENT_S:.0f} s")
            await asyncio.sleep(0.2)
    return started


async def _run_agent(client: httpx.AsyncClient, body: dict[str, object]) -> tuple[str, str]:
    session = await client.post("/sessions/start", json={}, timeout=120)
    session.raise_for_status()
    session_id: str = session.json()["session_id"]
    agent = await client.post("/agents/start", json={**body, "session_id": session_id})
    agent.raise_for_status()
    return session_id, agent.json()["agent_id"]


async def _wait_closed(client: httpx.AsyncClient, agent_id: str) -> dict[str, object]:
    deadline = time.monotonic() + WAIT_AGENT_S
    while time.monotonic() < deadline:
        status: dict[str, object] = (await client.get(f"/agents/{agent_id}")).json()
        if status.get("status") == "closed":
            return status
        await asyncio.sleep(0.2)
    raise TimeoutError(f"agent {agent_id} did not finish within {WAIT_AGENT_S:.0f} s")


@dataclass
class Delivery:
    latencies: list[float] = field(default_factory=list)
    skipped: int = 0  # steps that ended before the subscriber connected
    stop_received: bool = False


async def ws_delivery(server: BenchServer, client: httpx.AsyncClient, page_url: str, steps: int) -> Delivery:
    script = [{"type": "wait", "time_ms": LEAD_IN_MS}] + [
        {"type": "wait", "time_ms": i % 2} for i in range(steps)
    ]
    session_id, agent_id = await _run_agent(
        client,
        {
            "task": "deliver steps",
            "url": page_url,
            "reasoning_model": "scripted:" + json.dumps(script),
            "max_steps": steps + 3,
        },
    )
    delivery = Delivery()
    url = f"{server.ws_url}/agents/{agent_id}/debug/logs?token={quote(server.api_key, safe='')}"
    try:
        async with connect(url, max_size=None) as websocket:
            connected = time.time()
            async for message in websocket:
                received = time.time()
                event = json.loads(message)
                if event.get("status") == "agent_stop":
                    delivery.stop_received = True
                    break
                ended = datetime.fromisoformat(event["ended_at"]).timestamp()
                if ended < connected:
                    delivery.skipped += 1
                else:
                    delivery.latencies.append(received - ended)
    finally:
        await client.delete(f"/sessions/{session_id}/stop")
    return delivery


async def run(config: BenchConfig, running_agents: int | None = None) -> BenchSection:
    if running_agents is None:  # a short (quick or smoke) run starts one agent, not twenty browsers
        running_agents = RUNNING_AGENTS if config.api_duration_s >= 10 else 1
    begin = time.perf_counter()
    with DemoSite() as site:
        async with (
            BenchServer(pool_size=1) as server,
            httpx.AsyncClient(
                base_url=server.url,
                headers=server.headers,
                timeout=60,
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
            ) as client,
        ):
            task = f"Go to {site.page('contact.html')} and find the contact email"
            session_id, agent_id = await _run_agent(client, {"task": task, "reasoning_model": "offline"})
            status = await _wait_closed(client, agent_id)
            await client.delete(f"/sessions/{session_id}/stop")
            path = f"/agents/{agent_id}"
            idle = await measured_load(server, path, config.api_rate, config.api_duration_s)
            waiting = await start_waiting_agents(client, running_agents, 3 * config.api_duration_s + 10)
            busy = await measured_load(server, path, config.api_rate, config.api_duration_s)
            still_running = sum(
                [(await client.get(f"/agents/{a}")).json()["status"] == "active" for _, a in waiting]
            )
            await asyncio.gather(*(client.delete(f"/sessions/{s}/stop") for s, _ in waiting))
            load = idle.load
            delivery = await ws_delivery(server, client, site.page("index.html"), config.ws_steps)

    steps = status.get("steps")
    n_steps = len(steps) if isinstance(steps, list) else 0
    polling = Table(
        caption=f"GET /agents/{{id}} at {config.api_rate:.0f} requests/s for {config.api_duration_s:.0f} s "
        f"(a finished agent with {n_steps} steps, {load.body_bytes:,} bytes per answer)",
        header=[
            "while",
            "requests",
            "answered/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "server CPU ms/request",
            "errors",
        ],
        rows=[
            [
                label,
                str(measured.load.sent),
                f"{len(measured.load.latencies) / measured.load.seconds:.0f}"
                if measured.load.seconds
                else "–",
                ms(median(measured.load.latencies)),
                ms(percentile(measured.load.latencies, 99)),
                ms(max(measured.load.latencies, default=None)),
                ms(measured.cpu_per_request_s),
                str(len(measured.load.errors)),
            ]
            for label, measured in (
                ("idle", idle),
                (f"{running_agents} agents running ({still_running} still at the end)", busy),
            )
        ],
    )
    websocket = Table(
        caption=f"WebSocket step delivery ({config.ws_steps} quick scripted steps)",
        header=["steps measured", "p50 ms", "p99 ms", "max ms", "terminal message"],
        rows=[
            [
                str(len(delivery.latencies)),
                ms(median(delivery.latencies)),
                ms(percentile(delivery.latencies, 99)),
                ms(max(delivery.latencies, default=None)),
                "received" if delivery.stop_received else "**missing**",
            ]
        ],
    )
    notes = [
        "One `lanterna serve` (SQLite store, LANTERNA_POOL_SIZE=1) on loopback; the load generator "
        "shares its cores."
    ]
    for measured in (idle, busy):
        if measured.load.errors:
            notes.append(f"first error: `{measured.load.errors[0][:200]}`")
    if delivery.skipped:
        notes.append(f"{delivery.skipped} step(s) ended before the subscriber connected and were left out.")
    return BenchSection(
        title="API",
        command=f"python -m bench.api --rate {config.api_rate:.0f} --duration {config.api_duration_s:.0f} "
        f"--agents {running_agents}",
        explanation=__doc__.split("\n\n    python")[0].split("\n", 1)[1].strip(),
        tables=[polling, websocket],
        notes=notes,
        numbers={
            "status_p50_ms": (median(load.latencies) or 0) * 1000,
            "status_p99_ms": (percentile(load.latencies, 99) or 0) * 1000,
            "status_errors": float(len(load.errors)),
            "status_answered": float(len(load.latencies)),
            "status_cpu_ms": (idle.cpu_per_request_s or 0) * 1000,
            "busy_status_p50_ms": (median(busy.load.latencies) or 0) * 1000,
            "busy_status_p99_ms": (percentile(busy.load.latencies, 99) or 0) * 1000,
            "busy_status_cpu_ms": (busy.cpu_per_request_s or 0) * 1000,
            "ws_p50_ms": (median(delivery.latencies) or 0) * 1000,
            "ws_p99_ms": (percentile(delivery.latencies, 99) or 0) * 1000,
            "ws_steps": float(len(delivery.latencies)),
        },
        seconds=time.perf_counter() - begin,
    )


def main() -> None:
    from bench.run_all import run_one

    parser = argparse.ArgumentParser(description="API latency under load and WebSocket step delivery.")
    parser.add_argument("--rate", type=float, default=BenchConfig().api_rate)
    parser.add_argument("--duration", type=float, default=BenchConfig().api_duration_s)
    parser.add_argument("--ws-steps", type=int, default=BenchConfig().ws_steps)
    parser.add_argument(
        "--agents", type=int, default=RUNNING_AGENTS, help="agents running during the 2nd load"
    )
    args = parser.parse_args()
    config = BenchConfig(api_rate=args.rate, api_duration_s=args.duration, ws_steps=args.ws_steps)
    run_one(lambda c: run(c, running_agents=args.agents), config)


if __name__ == "__main__":
    main()
