"""Cluster mode beside the embedded server, in one run, on one machine.

Three deployments, one after the other: the embedded server (SQLite), a replica on a one-node
Ray cluster, the same replica after a second node joined (both on PostgreSQL). For each:

- sessions per second: start → go to the demo shop → stop, ``--sessions`` of them, 4 at a time
  (8 on two nodes), and the CPU seconds every lanterna process spent per session;
- the added latency of a routed call: median of ``observe`` and ``execute`` on one session;
- status: ``GET /agents/{id}`` on a finished agent, back to back: p50, p99 and server CPU per
  request (the replica's process, or the embedded server's);
- ``--agents`` agents at once (offline reasoner, the demo shop), each on its own session: how
  many found the right answer, how long all took, CPU per agent.

On this machine both Ray nodes share the same 2 cores, so two nodes cannot be faster than one
here; the CPU per session is what extrapolates to N machines.

    python -m bench.cluster --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray on loopback only

import httpx
import psutil

from bench.server import BenchServer
from bench.stats import median, percentile
from lanterna.demo.site import CONTACT_EMAIL, DemoSite

SLOTS_PER_NODE = 25  # 50 agents fill two nodes; on one node half of them wait for a slot
NODE_ARGS = {"num_cpus": 1, "resources": {"lanterna_browser": SLOTS_PER_NODE}}


@dataclass
class Figures:
    name: str
    sessions_per_s: float
    cpu_s_per_session: float
    observe_ms: float
    execute_ms: float
    status_p50_ms: float
    status_p99_ms: float
    status_cpu_ms: float
    agents_done: str = ""
    agents_s: float = 0.0
    agent_cpu_s: float = 0.0


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _lanterna_processes(server: BenchServer) -> list[psutil.Process]:
    """The server's tree and, in cluster mode, every Ray process of this machine (hosts, raylets)."""
    ours = {p.pid: p for p in server.process_tree()}
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "ray" in cmdline and (
            "raylet" in cmdline or "default_worker" in cmdline or "gcs_server" in cmdline
        ):
            ours.setdefault(process.pid, process)
            with suppress(psutil.Error):
                ours.update({c.pid: c for c in process.children(recursive=True)})
    return list(ours.values())


async def _lifecycle(client: httpx.AsyncClient, url: str) -> None:
    started = await client.post("/sessions/start", json={})
    started.raise_for_status()
    session = started.json()["session_id"]
    try:
        goto = await client.post(f"/sessions/{session}/page/execute", json={"type": "goto", "url": url})
        goto.raise_for_status()
    finally:
        await client.delete(f"/sessions/{session}/stop")


async def _sessions_per_s(
    server: BenchServer, client: httpx.AsyncClient, url: str, count: int, concurrency: int
) -> tuple[float, float]:
    queue = list(range(count))

    async def worker() -> None:
        while queue:
            queue.pop()
            await _lifecycle(client, url)

    cpu_before = _cpu_seconds(_lanterna_processes(server))
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    cpu = _cpu_seconds(_lanterna_processes(server)) - cpu_before
    return count / elapsed, cpu / count


async def _page_calls(client: httpx.AsyncClient, url: str, repeats: int) -> tuple[float, float]:
    session = (await client.post("/sessions/start", json={})).json()["session_id"]
    try:
        await client.post(f"/sessions/{session}/page/execute", json={"type": "goto", "url": url})
        observe, execute = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            (await client.post(f"/sessions/{session}/page/observe", json={})).raise_for_status()
            observe.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            body = {"type": "scroll_down", "amount": 10}
            (await client.post(f"/sessions/{session}/page/execute", json=body)).raise_for_status()
            execute.append((time.perf_counter() - t) * 1000)
        return median(observe) or 0.0, median(execute) or 0.0
    finally:
        await client.delete(f"/sessions/{session}/stop")


async def _status(
    server: BenchServer, client: httpx.AsyncClient, url: str, requests: int
) -> tuple[float, ...]:
    session = (await client.post("/sessions/start", json={})).json()["session_id"]
    try:
        body = {"task": "Find the contact email", "session_id": session, "url": url}
        agent = (await client.post("/agents/start", json=body)).json()["agent_id"]
        deadline = time.monotonic() + 120
        while (await client.get(f"/agents/{agent}")).json()["status"] != "closed":
            if time.monotonic() > deadline:
                raise RuntimeError("the status benchmark's agent did not finish in 120 s")
            await asyncio.sleep(0.2)
    finally:
        await client.delete(f"/sessions/{session}/stop")
    front = server.process_tree()[:1]
    cpu_before = _cpu_seconds(front)
    times = []
    for _ in range(requests):
        t = time.perf_counter()
        (await client.get(f"/agents/{agent}")).raise_for_status()
        times.append((time.perf_counter() - t) * 1000)
    cpu_ms = (_cpu_seconds(front) - cpu_before) * 1000 / requests
    return median(times) or 0.0, percentile(times, 99) or 0.0, cpu_ms


async def _one_agent(client: httpx.AsyncClient, url: str) -> bool:
    """Session (retrying while the cluster is full), agent on the demo shop, stop: right answer?"""
    deadline = time.monotonic() + 300
    while True:
        started = await client.post("/sessions/start", json={})
        if started.status_code != 503 or time.monotonic() > deadline:
            break
        await asyncio.sleep(float(started.headers.get("Retry-After", "2")))
    if started.status_code != 200:
        return False
    session = started.json()["session_id"]
    try:
        body = {"task": "Find the contact email", "session_id": session, "url": url}
        agent = (await client.post("/agents/start", json=body)).json()["agent_id"]
        while time.monotonic() < deadline:
            status = (await client.get(f"/agents/{agent}")).json()
            if status["status"] == "closed":
                return bool(status["success"]) and CONTACT_EMAIL in (status["answer"] or "")
            await asyncio.sleep(0.5)
        return False
    finally:
        await client.delete(f"/sessions/{session}/stop")


async def _agents(
    server: BenchServer, client: httpx.AsyncClient, url: str, count: int
) -> tuple[str, float, float]:
    cpu_before = _cpu_seconds(_lanterna_processes(server))
    start = time.perf_counter()
    results = await asyncio.gather(*(_one_agent(client, url) for _ in range(count)), return_exceptions=True)
    elapsed = time.perf_counter() - start
    cpu = _cpu_seconds(_lanterna_processes(server)) - cpu_before
    done = sum(1 for r in results if r is True)
    return f"{done}/{count}", elapsed, cpu / count


async def _measure(
    name: str, server: BenchServer, url: str, args: argparse.Namespace, concurrency: int
) -> Figures:
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=120) as client:
        await _sessions_per_s(server, client, url, 2, 2)  # warm-up: hosts' first sessions
        per_s, cpu = await _sessions_per_s(server, client, url, args.sessions, concurrency)
        observe, execute = await _page_calls(client, url, args.repeats)
        p50, p99, status_cpu = await _status(server, client, url, args.status)
        done, agents_s, agent_cpu = (
            await _agents(server, client, url, args.agents) if args.agents else ("", 0, 0)
        )
    figures = Figures(name, per_s, cpu, observe, execute, p50, p99, status_cpu, done, agents_s, agent_cpu)
    print(figures, flush=True)
    return figures


@contextmanager
def _ray_cluster() -> Iterator[object]:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={**NODE_ARGS, "include_dashboard": False})
    try:
        yield cluster
    finally:
        cluster.shutdown()


async def _wait_for_hosts(database_url: str, count: int, timeout_s: float = 120) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            async with engine.connect() as db:
                alive = await db.scalar(text("SELECT count(*) FROM hosts WHERE status = 'alive'"))
            if alive >= count:
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{count} browser hosts did not register in {timeout_s:g} s")
    finally:
        await engine.dispose()


async def _drop_tables(database_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from lanterna.store.tables import Base

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as db:
            for table in [*(t.name for t in reversed(Base.metadata.sorted_tables)), "alembic_version"]:
                await db.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    finally:
        await engine.dispose()


async def _main(args: argparse.Namespace) -> None:
    results = []
    with DemoSite() as site:
        async with BenchServer(pool_size=2) as embedded:
            results.append(await _measure("embedded", embedded, site.url, args, 4))
        await _drop_tables(args.database_url)
        with _ray_cluster() as cluster:
            env = {"LANTERNA_RAY_ADDRESS": cluster.address, "LANTERNA_DATABASE_URL": args.database_url}  # type: ignore[attr-defined]
            async with BenchServer(pool_size=2, env=env) as replica:
                results.append(await _measure("cluster, 1 node", replica, site.url, args, 4))
                cluster.add_node(**NODE_ARGS)  # type: ignore[attr-defined]
                await _wait_for_hosts(args.database_url, 2)
                results.append(await _measure("cluster, 2 nodes", replica, site.url, args, 8))
    print()
    columns = ["deployment", "sessions/s", "CPU s per session", "observe ms", "execute ms"]
    columns += ["status p50 ms", "status p99 ms", "status CPU ms/request"]
    columns += ["agents at once: right answers", "all done s", "CPU s per agent"]
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for f in results:
        print(
            f"| {f.name} | {f.sessions_per_s:.2f} | {f.cpu_s_per_session:.2f} | {f.observe_ms:.1f} | "
            f"{f.execute_ms:.1f} | {f.status_p50_ms:.2f} | {f.status_p99_ms:.2f} | {f.status_cpu_ms:.2f} | "
            f"{f.agents_done} | {f.agents_s:.1f} | {f.agent_cpu_s:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", required=True, help="a PostgreSQL URL (its lanterna tables are dropped)"
    )
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--status", type=int, default=300)
    parser.add_argument("--agents", type=int, default=50, help="agents at once, each on its own session")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
