"""Cluster mode on a real local Ray cluster: two nodes offering browsers, two API replicas on one
PostgreSQL. Sessions spread over the nodes, any replica serves any session, a lost node ends
exactly its sessions and agents, a lost replica loses nothing.

Every Ray address stays on loopback (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes Ray resolve
"localhost" to 127.0.0.1 instead of the machine's own address).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # before Ray reads it at import
os.environ.setdefault("RAY_raylet_start_wait_time_s", "120")  # two cores shared with browsers

import httpx
import psutil
import pytest
import websockets
from playwright.async_api import async_playwright
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from lanterna import AsyncClient
from lanterna.demo.site import CONTACT_EMAIL, DemoSite
from tests.examples import test_examples as examples
from tests.fixtures.sdk import NotteRunner
from tests.fixtures.server import LanternaServer, drop_lanterna_tables, postgres_url
from tests.sdk import test_async_client as async_patterns
from tests.sdk import test_notte_agents as notte_agents

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

SLOTS_PER_NODE = 2
NODE_ARGS: dict[str, Any] = {
    "num_cpus": 1,
    "resources": {"lanterna_browser": SLOTS_PER_NODE},
    "object_store_memory": 80 * 1024 * 1024,
}
LOST_WITHIN_S = 10.0


def _waits(count: int, ms: int = 200) -> str:
    """A scripted model: ``count`` distinct waits, then completion."""
    return "scripted:" + json.dumps([{"type": "wait", "time_ms": ms + n} for n in range(count)])


class Deployment:
    """The cluster, its worker node (removable; the head carries the GCS) and two replicas."""

    def __init__(self, cluster: Cluster, worker: Any, replicas: list[LanternaServer], database_url: str):
        self.cluster = cluster
        self.worker = worker
        self.replicas = replicas
        self.database_url = database_url

    async def hosts_of(self, session_ids: list[str]) -> dict[str, str]:
        """Session id -> the Ray node id its browser host runs on, read from the shared store."""
        engine = create_async_engine(self.database_url)
        try:
            async with engine.connect() as db:
                rows = await db.execute(
                    text("SELECT s.id, h.node_id FROM sessions s JOIN hosts h ON h.id = s.host")
                )
                found = {row[0]: row[1] for row in rows}
        finally:
            await engine.dispose()
        return {sid: found[sid] for sid in session_ids if sid in found}

    async def host_url_of(self, session_id: str) -> str:
        """The API URL of the browser host that owns ``session_id``."""
        engine = create_async_engine(self.database_url)
        try:
            async with engine.connect() as db:
                query = text("SELECT h.url FROM sessions s JOIN hosts h ON h.id = s.host WHERE s.id = :id")
                url: str = (await db.execute(query, {"id": session_id})).scalar_one()
        finally:
            await engine.dispose()
        return url


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    url = postgres_url()
    asyncio.run(drop_lanterna_tables(url))
    cluster = Cluster(initialize_head=True, head_node_args={**NODE_ARGS, "include_dashboard": False})
    replicas: list[LanternaServer] = []
    try:
        worker = cluster.add_node(**NODE_ARGS)
        cluster.wait_for_nodes()
        home = tmp_path_factory.mktemp("lanterna-cluster")
        env = {"LANTERNA_HOME": str(home), "LANTERNA_ACQUIRE_WAIT_S": "3"}  # a full cluster: 503 in 3 s
        first = LanternaServer(
            home / "replica-1",
            database_url=url,
            serve_args=("--ray", cluster.address),
            extra_env=env,
            start_timeout_s=180,
        )
        replicas.append(first)
        first.start()
        second = LanternaServer(
            home / "replica-2",
            database_url=url,
            api_key=first.api_key,
            serve_args=("--ray", cluster.address),
            extra_env=env,
            start_timeout_s=180,
        )
        replicas.append(second)
        second.start()
        yield Deployment(cluster, worker, replicas, url)
    finally:
        for replica in replicas:
            replica.stop()
        cluster.shutdown()
    _assert_no_browser_left(tmp_path_factory.getbasetemp())


def _assert_no_browser_left(root: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        left = [p for p in psutil.process_iter(["name", "cmdline"]) if _is_our_browser(p, root)]
        if not left:
            return
        time.sleep(0.2)
    raise AssertionError(f"Chromium outlived the cluster: {[p.pid for p in left]}")


def _is_our_browser(process: psutil.Process, root: Path) -> bool:
    try:
        name = (process.info["name"] or "").lower()
        return "chrom" in name and str(root) in " ".join(process.info["cmdline"] or [])
    except psutil.Error:
        return False


@pytest.fixture
async def replica_apis(deployment: Deployment) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    first, second = deployment.replicas
    async with first.client() as one, second.client() as two:
        yield one, two


async def _start_session(api: httpx.AsyncClient) -> str:
    response = await api.post("/sessions/start", json={"idle_timeout_minutes": 5})
    assert response.status_code == 200, response.text
    session_id: str = response.json()["session_id"]
    return session_id


async def _wait_closed(api: httpx.AsyncClient, agent_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: dict[str, Any] = (await api.get(f"/agents/{agent_id}")).json()
        if status["status"] == "closed":
            return status
        await asyncio.sleep(0.2)
    raise AssertionError(f"agent {agent_id} still running after {timeout} s")


async def _start_agent(api: httpx.AsyncClient, session_id: str, task: str, **fields: Any) -> str:
    response = await api.post("/agents/start", json={"task": task, "session_id": session_id, **fields})
    assert response.status_code == 200, response.text
    agent_id: str = response.json()["agent_id"]
    return agent_id


def _logs_url(replica: LanternaServer, agent_id: str) -> str:
    return f"{replica.url.replace('http://', 'ws://')}/agents/{agent_id}/debug/logs?token={replica.api_key}"


async def _read_stream(url: str, opened: asyncio.Event | None = None) -> list[dict[str, Any]]:
    messages = []
    async with websockets.connect(url, open_timeout=20) as ws:
        if opened is not None:
            opened.set()
        async for frame in ws:
            messages.append(json.loads(frame))
    return messages


async def test_sessions_spread_over_nodes_and_any_replica_serves_them(
    deployment: Deployment, replica_apis: tuple[httpx.AsyncClient, httpx.AsyncClient], demo_site: DemoSite
) -> None:
    one, two = replica_apis
    sessions = [await _start_session(one) for _ in range(2 * SLOTS_PER_NODE)]
    try:
        placed = await deployment.hosts_of(sessions)
        assert len(set(placed.values())) == 2, placed  # every slot of both nodes taken
        full = await one.post("/sessions/start", json={}, timeout=90)
        assert full.status_code == 503 and "Retry-After" in full.headers, full.text

        session = sessions[0]
        page = f"/sessions/{session}/page"
        goto = await two.post(f"{page}/execute", json={"type": "goto", "url": demo_site.url})
        assert goto.status_code == 200 and goto.json()["success"], goto.text
        observed = await two.post(f"{page}/observe", json={})
        assert observed.status_code == 200 and observed.json()["metadata"]["url"].startswith(demo_site.url)
        scraped = await one.post(f"{page}/scrape", json={})
        assert "Lantern" in scraped.json()["markdown"]
        assert (await two.get(f"/sessions/{session}")).json()["status"] == "active"

        # The CDP URL handed out by either replica reaches the session's own browser.
        for api in (one, two):
            cdp = (await api.get(f"/sessions/{session}/debug")).json()["ws"]["cdp"]
            assert cdp.startswith(str(api.base_url).replace("http://", "ws://"))
            async with async_playwright() as playwright:
                browser = await playwright.chromium.connect_over_cdp(cdp, timeout=30_000)
                pages = [p for c in browser.contexts for p in c.pages]
                assert [p.url for p in pages if p.url.startswith(demo_site.url)], [p.url for p in pages]
                await browser.close()

        # An agent started through replica 2 on replica 1's session, followed on replica 1.
        started = await two.post(
            "/agents/start",
            json={"task": "Find the contact email", "session_id": session, "url": demo_site.url},
        )
        assert started.status_code == 200, started.text
        agent_id = started.json()["agent_id"]
        live = await _read_stream(_logs_url(deployment.replicas[0], agent_id))
        assert live[-1]["status"] == "agent_stop" and CONTACT_EMAIL in live[-1]["agent"]["answer"]
        final = (await two.get(f"/agents/{agent_id}")).json()
        assert final["success"] is True and len(final["steps"]) == len(live) - 1
    finally:
        for sid in sessions:
            await two.delete(f"/sessions/{sid}/stop")
    for sid in sessions:
        assert (await one.get(f"/sessions/{sid}")).json()["status"] == "closed"


async def test_a_lost_replica_loses_nothing(
    deployment: Deployment, replica_apis: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    one, two = replica_apis
    session = await _start_session(one)
    try:
        started = await one.post(
            "/agents/start", json={"task": "wait", "session_id": session, "reasoning_model": _waits(8)}
        )
        agent_id = started.json()["agent_id"]
        deployment.replicas[0].stop(crash=True)
        final = await _wait_closed(two, agent_id)
        assert final["success"] is True and len(final["steps"]) == 9
        deployment.replicas[0].start()  # a replica's start-up closes nothing that lives on a host
        assert (await one.get(f"/sessions/{session}")).json()["status"] == "active"
        executed = await one.post(f"/sessions/{session}/page/execute", json={"type": "wait", "time_ms": 10})
        assert executed.json()["success"] is True
    finally:
        await two.delete(f"/sessions/{session}/stop")


SEED_EXAMPLES = [
    "run_blocking.py",
    "start_wait.py",
    "async_agent.py",
    "status_checking.py",
    "polling_pattern.py",
    "live_log_streaming.py",
    "manual_stop.py",
    "timeout_pattern.py",
    "parallel_agents.py",
    "batch_execution.py",
    "agent_fallback_example.py",
    "agent_fallback_example.py --broken",
]


@pytest.mark.parametrize("command", SEED_EXAMPLES)
def test_the_seed_patterns_through_lanterna_sdk(
    command: str, deployment: Deployment, demo_site: DemoSite
) -> None:
    replica = deployment.replicas[1]
    script, *args = command.split()
    env = {**replica.client_env, "LANTERNA_DEMO_URL": demo_site.url, "EXAMPLE_TIMEOUT_SECONDS": "3"}
    done = subprocess.run(
        [sys.executable, str(examples.EXAMPLES / script), *args],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for expected in examples.EXPECTED[command]:
        assert expected in output, f"{expected!r} not in output of {command}:\n{output}"


@pytest.mark.parametrize(
    "pattern",
    [
        notte_agents.test_notte_run_arun_and_result_structure,
        notte_agents.test_notte_start_status_wait_watch_logs_stop,
        notte_agents.test_notte_agent_fallback,
    ],
    ids=["run-arun", "start-status-wait-watch-stop", "fallback"],
)
def test_the_seed_patterns_through_the_official_client(
    pattern: Callable[[NotteRunner, DemoSite], None], deployment: Deployment, demo_site: DemoSite
) -> None:
    replica = deployment.replicas[0]
    pattern(NotteRunner(server_url=replica.url, api_key=replica.api_key), demo_site)


async def test_batch_agents_both_strategies_through_the_async_client(
    deployment: Deployment, demo_site: DemoSite
) -> None:
    replica = deployment.replicas[1]
    async with AsyncClient(api_key=replica.new_key("cluster-batch"), server_url=replica.url) as client:
        await async_patterns.test_batch_first_success_and_all_finished(client, demo_site)


async def test_a_tenants_page_cannot_reach_its_browser_hosts_api(
    deployment: Deployment, replica_apis: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    one, _ = replica_apis
    session = await _start_session(one)
    try:
        host = await deployment.host_url_of(session)
        body = {"type": "goto", "url": f"{host}/sessions"}
        result = (await one.post(f"/sessions/{session}/page/execute", json=body)).json()
        assert result["success"] is False and "protected-port" in result["message"], result
    finally:
        await one.delete(f"/sessions/{session}/stop")


async def test_a_lost_node_ends_exactly_its_sessions_and_agents(
    deployment: Deployment, replica_apis: tuple[httpx.AsyncClient, httpx.AsyncClient], demo_site: DemoSite
) -> None:
    """Runs last in this module: it removes the worker node."""
    one, two = replica_apis
    worker_node = deployment.worker.node_id
    sessions = [await _start_session(one) for _ in range(2)]
    placed = await deployment.hosts_of(sessions)
    while len(set(placed.values())) < 2:  # until one lives on each node (bounded by the slots)
        assert len(sessions) < 2 * SLOTS_PER_NODE, placed
        sessions.append(await _start_session(two))
        placed = await deployment.hosts_of(sessions)
    doomed = next(s for s in sessions if placed[s] == worker_node)
    spared = next(s for s in sessions if placed[s] != worker_node)
    slow = await two.post(
        "/agents/start", json={"task": "wait", "session_id": doomed, "reasoning_model": _waits(200)}
    )
    fine = await two.post(
        "/agents/start", json={"task": "Find the contact email", "session_id": spared, "url": demo_site.url}
    )
    doomed_agent, spared_agent = slow.json()["agent_id"], fine.json()["agent_id"]
    opened = asyncio.Event()
    followed = asyncio.create_task(_read_stream(_logs_url(deployment.replicas[1], doomed_agent), opened))
    await asyncio.wait_for(opened.wait(), 20)

    deployment.cluster.remove_node(deployment.worker)
    removed_at = time.monotonic()
    ended = await _wait_closed(one, doomed_agent, timeout=LOST_WITHIN_S + 5)
    assert time.monotonic() - removed_at <= LOST_WITHIN_S
    assert ended["success"] is False and "browser host was lost" in ended["answer"]
    for api in (one, two):
        lost = (await api.get(f"/sessions/{doomed}")).json()
        assert lost["status"] == "error" and "browser host was lost" in lost["error"], lost
    messages = await asyncio.wait_for(followed, 20)
    assert (
        messages[-1]["status"] == "agent_stop" and "browser host was lost" in messages[-1]["agent"]["answer"]
    )

    survivor = await _wait_closed(two, spared_agent)
    assert survivor["success"] is True and CONTACT_EMAIL in survivor["answer"]
    active = (await one.get("/sessions", params={"only_active": "true"})).json()["items"]
    assert {s["session_id"] for s in active} == {s for s in sessions if placed[s] != worker_node}
    for sid in sessions:
        await two.delete(f"/sessions/{sid}/stop")
