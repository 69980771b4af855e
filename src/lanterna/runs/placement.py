"""Where a session lives in cluster mode: a browser host on some node of a Ray cluster.

Machines offer browsers by joining the cluster with a ``lanterna_browser`` resource. Each new
session reserves one unit through a placement group, so Ray's scheduler picks the node (and
pending demand shows to its autoscaler); the session then starts on that node's browser host,
which holds the reservation until the session ends. Hosts register in the store and heartbeat;
a host whose node left the cluster, or that stopped heartbeating, is declared lost and its
sessions and agents end with an answer that says so (``store.hosts.mark_lost``).

This module speaks Ray and the store only; the host itself (an HTTP server inside a Ray actor)
and the routing of requests belong to the server, which passes in ``ensure_host``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from lanterna.config import Settings
from lanterna.errors import CapacityError, ConflictError
from lanterna.models.time import utc_now
from lanterna.store import Store
from lanterna.store.hosts import LostHost
from lanterna.store.records import HostRecord

log = logging.getLogger(__name__)

BROWSER_RESOURCE = "lanterna_browser"
SESSION_GROUP_PREFIX = "lanterna-session-"
NODE_LEFT = "the browser host was lost: its machine left the Ray cluster; start a new session"
NO_HEARTBEAT = "the browser host was lost: it stopped answering for {s:g} s; start a new session"

EnsureHost = Callable[[str], Coroutine[Any, Any, None]]  # node id -> a browser host runs there (idempotent)
LostListener = Callable[[LostHost], Awaitable[None]]


@dataclass(frozen=True)
class Placement:
    """A reserved browser slot: the placement group holding it and the host that will use it."""

    group_name: str
    host: HostRecord


class RayPlacement:
    """A replica's view of the cluster. ``await start()``, then ``place()`` / ``host_url()``."""

    def __init__(self, settings: Settings, store: Store, ensure_host: EnsureHost) -> None:
        self._settings = settings
        self._store = store
        self._ensure_host = ensure_host
        self._hosts: dict[str, HostRecord] = {}  # alive hosts by id, refreshed by the watch loop
        self._lost_listeners: list[LostListener] = []
        self._watch: asyncio.Task[None] | None = None
        self._starting: dict[str, asyncio.Task[None]] = {}  # node id -> its host's start under way

    async def start(self, *, wait_for_hosts_s: float = 60.0) -> None:
        """Join the cluster, start a host on every node offering browsers, and watch them."""
        import ray

        address = self._settings.ray_address
        await asyncio.to_thread(
            ray.init,
            address=address,
            namespace=self._settings.ray_namespace,
            ignore_reinit_error=True,
            log_to_driver=False,
            configure_logging=False,
        )
        nodes = await self._browser_nodes()
        await asyncio.gather(*(self._ensure_host(node) for node in nodes))
        deadline = time.monotonic() + wait_for_hosts_s
        while not {h.node_id for h in await self._refresh()} >= nodes:
            if time.monotonic() > deadline:
                raise RuntimeError(f"browser hosts did not register within {wait_for_hosts_s:g} s")
            await asyncio.sleep(0.1)
        self._watch = asyncio.create_task(self._watch_loop(), name="lanterna-cluster-watch")

    async def close(self) -> None:
        for task in list(self._starting.values()):
            task.cancel()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch

    @property
    def store(self) -> Store:
        return self._store

    def on_lost(self, listener: LostListener) -> None:
        """Register ``listener(lost)``, awaited when this replica declares a host lost."""
        self._lost_listeners.append(listener)

    # ----- placing and finding sessions --------------------------------------------------

    async def place(self) -> Placement:
        """Reserve one browser slot; waits up to ``acquire_wait_s`` for one to free up."""
        from ray.util.placement_group import placement_group, remove_placement_group

        name = f"{SESSION_GROUP_PREFIX}{uuid.uuid4().hex}"
        group = placement_group([{BROWSER_RESOURCE: 1}], name=name, lifetime="detached")
        try:
            await asyncio.wait_for(group.ready(), timeout=self._settings.acquire_wait_s)
            node_id = await asyncio.to_thread(_node_of_group, group)
            host = await self._host_on(node_id)
        except BaseException as exc:
            remove_placement_group(group)
            if isinstance(exc, TimeoutError):
                raise CapacityError(
                    f"every browser slot of the cluster stayed busy for {self._settings.acquire_wait_s:g} s; "
                    "retry later, or add machines with a lanterna_browser resource"
                ) from None
            raise
        return Placement(group_name=name, host=host)

    @staticmethod
    def release(placement_name: str) -> None:
        """Free a slot reserved by ``place`` (when its session could not start)."""
        release_group(placement_name)

    async def host_url(self, host_id: str) -> str | None:
        """The API URL of a live host, ``None`` when it is lost or unknown."""
        host = self._hosts.get(host_id)
        if host is None:
            record = await self._store.hosts.get(host_id)
            if record is None or record.status != "alive":
                return None
            host = self._hosts[host_id] = record
        return host.url

    async def _host_on(self, node_id: str) -> HostRecord:
        for host in self._hosts.values():
            if host.node_id == node_id:
                return host
        for host in await self._refresh():
            if host.node_id == node_id:
                return host
        raise ConflictError(f"no browser host is running on node {node_id} yet; retry in a few seconds")

    # ----- membership --------------------------------------------------------------------

    async def _refresh(self) -> list[HostRecord]:
        hosts = await self._store.hosts.alive()
        self._hosts = {h.id: h for h in hosts}
        return hosts

    async def _browser_nodes(self) -> set[str]:
        import ray

        nodes: list[dict[str, Any]] = await asyncio.to_thread(ray.nodes)
        return {
            n["NodeID"]
            for n in nodes
            if n.get("Alive") and n.get("Resources", {}).get(BROWSER_RESOURCE, 0) > 0
        }

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(self._settings.host_heartbeat_s)
            try:
                await self.check_hosts()
            except Exception:
                log.exception("checking the cluster's browser hosts failed; retrying")

    def _start_host_soon(self, node_id: str) -> None:
        if node_id in self._starting:
            return
        task = asyncio.create_task(self._ensure_host(node_id), name=f"lanterna-host-start-{node_id[:12]}")
        self._starting[node_id] = task

        def done(finished: asyncio.Task[None]) -> None:
            self._starting.pop(node_id, None)
            if not finished.cancelled() and finished.exception() is not None:
                log.warning("starting the browser host of node %s failed: %s", node_id, finished.exception())

        task.add_done_callback(done)

    async def check_hosts(self) -> list[LostHost]:
        """One round of membership: hosts for new nodes, and lost hosts declared so."""
        nodes = await self._browser_nodes()
        hosts = await self._refresh()
        for node in nodes - {h.node_id for h in hosts}:
            self._start_host_soon(node)  # in the background: the staleness below is judged now
        stale_before = utc_now() - timedelta(seconds=self._settings.host_lost_after_s)
        lost: list[LostHost] = []
        for host in hosts:
            if host.node_id not in nodes:
                reason = NODE_LEFT
            elif host.heartbeat_at < stale_before:
                reason = NO_HEARTBEAT.format(s=self._settings.host_lost_after_s)
            else:
                continue
            ended = await self._store.hosts.mark_lost(host.id, reason)
            self._hosts.pop(host.id, None)
            if ended is not None:
                log.warning(
                    "browser host %s lost (%s): ended %d sessions and %d agents",
                    host.id, reason, len(ended.session_ids), len(ended.agent_ids),
                )  # fmt: skip
                lost.append(ended)
                for listener in self._lost_listeners:
                    await listener(ended)
        return lost


def release_group(name: str) -> None:
    """Remove the placement group called ``name`` if it still exists (idempotent)."""
    from ray.util import get_placement_group
    from ray.util.placement_group import remove_placement_group

    with contextlib.suppress(ValueError):
        remove_placement_group(get_placement_group(name))


def _node_of_group(group: Any) -> str:
    from ray.util.placement_group import placement_group_table

    node: str = placement_group_table(group)["bundles_to_node_id"][0]
    return node
