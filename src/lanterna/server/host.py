"""A browser host: the lanterna API with its browsers, inside a Ray actor pinned to one node.

In cluster mode every node offering ``lanterna_browser`` slots runs one host. It serves the
same app as the embedded server (sessions, agents, CDP relay, recording) for the sessions placed
on its node, on the node's address, registered in the shared store; API replicas route each
call about one of its sessions here. It heartbeats into the store, and stops serving when a
replica declared it lost (its sessions were already ended with an answer that says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI

from lanterna.config import Settings
from lanterna.models.time import utc_now
from lanterna.runs.placement import release_group
from lanterna.runs.runtime import Runtime
from lanterna.store.records import HostRecord

log = logging.getLogger(__name__)

AppFactory = Callable[[Settings], FastAPI]  # the server's create_app, passed in (no import cycle)
HOST_ACTOR_PREFIX = "lanterna-host-"
DECLARED_LOST = "this browser host was declared lost by the cluster"


class HostRetiredError(RuntimeError):
    """The host on a node was declared lost (it missed heartbeats) and must be replaced."""


class BrowserHost:
    """The actor's body (``ray.remote`` is applied by ``host_actor_class``); one per node."""

    def __init__(self, settings: Settings, node_id: str, create_app: AppFactory) -> None:
        self._create_app = create_app
        self._base_settings = settings
        self._node_id = node_id
        self._id = f"{node_id[:12]}-{uuid.uuid4().hex[:12]}"
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._groups: dict[str, str] = {}  # session id -> its placement group
        self._record: HostRecord | None = None
        self._retired = False  # declared lost: it serves no more, a new host takes the node

    async def start(self) -> HostRecord:
        """Serve the API on a free port of this node's address and register in the store."""
        import ray

        if self._record is not None:
            if self._retired:
                raise HostRetiredError(f"browser host {self._id} was declared lost; start a new one")
            return self._record  # another replica asked first

        address = ray.util.get_node_ip_address()
        listener = socket.create_server((address, 0))
        port = listener.getsockname()[1]
        settings = self._base_settings.model_copy(
            update={"host_id": self._id, "ray_address": None, "host": address, "port": port}
        )
        app = self._create_app(settings)
        config = uvicorn.Config(app, log_level="warning", ws_max_size=64 * 1024 * 1024, lifespan="on")
        self._server = uvicorn.Server(config)
        self._serving = asyncio.create_task(self._server.serve(sockets=[listener]))
        while not self._server.started:
            if self._serving.done():
                self._serving.result()  # raises what stopped the start-up
                raise RuntimeError("the browser host's server stopped during start-up")
            await asyncio.sleep(0.02)
        runtime: Runtime = app.state.runtime
        runtime.sessions.on_close(self._session_closed)
        now = utc_now()
        record = HostRecord(
            id=self._id,
            node_id=self._node_id,
            url=f"http://{address}:{port}",
            started_at=now,
            heartbeat_at=now,
        )
        await runtime.store.hosts.register(record)
        self._record = record
        self._heartbeat = asyncio.create_task(self._beat(runtime, settings.host_heartbeat_s))
        log.info("browser host %s serving on %s", self._id, record.url)
        return record

    async def hold(self, session_id: str, group_name: str) -> None:
        """Keep the session's placement group until the session ends."""
        self._groups[session_id] = group_name

    async def ping(self) -> str:
        return self._id

    async def stop(self) -> None:
        """Close every session and browser of this host, then stop serving."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self._server is not None:
            self._server.should_exit = True
        if self._serving is not None:
            with contextlib.suppress(Exception):
                await self._serving
        for group in self._groups.values():
            release_group(group)
        self._groups.clear()

    async def _session_closed(self, session_id: str, _reason: str) -> None:
        group = self._groups.pop(session_id, None)
        if group is not None:
            await asyncio.to_thread(release_group, group)

    async def _beat(self, runtime: Runtime, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                alive = await runtime.store.hosts.heartbeat(self._id)
            except Exception:
                log.exception("heartbeat of browser host %s failed; retrying", self._id)
                continue
            if not alive:
                log.warning("browser host %s was declared lost; closing its sessions", self._id)
                self._retired = True
                await runtime.sessions.close_all(DECLARED_LOST)
                if self._server is not None:
                    self._server.should_exit = True
                return


async def ensure_host(settings: Settings, create_app: AppFactory, node_id: str) -> None:
    """Start the browser host of ``node_id`` unless one runs there (named, detached, pinned)."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    actor_class: Any = ray.remote(BrowserHost)
    handle = actor_class.options(
        num_cpus=0,
        max_restarts=0,
        max_concurrency=1000,
        name=f"{HOST_ACTOR_PREFIX}{node_id}",
        get_if_exists=True,
        lifetime="detached",
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
    ).remote(settings, node_id, create_app)
    try:
        await handle.start.remote()
    except HostRetiredError:  # it was declared lost: replace it (its name frees up once it is gone)
        ray.kill(handle, no_restart=True)


def host_handle(node_id: str) -> object:
    """The actor handle of the browser host on ``node_id``."""
    import ray

    return ray.get_actor(f"{HOST_ACTOR_PREFIX}{node_id}")
