"""Revoking a key ends everything its tenant holds in this process, within a poll interval.

``lanterna keys revoke`` is another process writing the database, so the server polls: every
``LANTERNA_REVOCATION_POLL_S`` it asks the store which of the tenants holding something here
(an open WebSocket, a running agent, a live session) have a revoked key. Asking about those
tenants, rather than "keys revoked since the last check", needs no clock shared with the
revoking process, and also catches a connection whose handshake was authenticated just before
the revocation and registered just after it.

For a revoked tenant, in this order: its WebSockets are told to close at once (the server closes
them with ``REVOKED`` as the reason), then its agents are stopped (answer ``stopped: API key
revoked``), then its live sessions are closed and their browsers released (error
``API key revoked``): a revoked key must not leave a browser running that a copied CDP URL, an
agent or the idle timer could still use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from lanterna.models.status import CloseReason
from lanterna.runs.agents import AgentService
from lanterna.runs.connections import ConnectionRegistry
from lanterna.runs.sessions import SessionService
from lanterna.store import Store

log = logging.getLogger(__name__)

REVOKED = CloseReason.revoked


class RevocationWatcher:
    """Background task of the server process; ``start()`` after the services, ``close()`` before them."""

    def __init__(
        self,
        *,
        store: Store,
        connections: ConnectionRegistry,
        agents: AgentService,
        sessions: SessionService,
        interval_s: float,
    ) -> None:
        self._store = store
        self._connections = connections
        self._agents = agents
        self._sessions = sessions
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._ending: dict[str, asyncio.Task[None]] = {}  # tenant -> its agents and sessions being ended

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="revocation-watcher")

    async def close(self) -> None:
        """Stop polling and wait for tenants being ended (their sessions are closed by shutdown anyway)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        pending = list(self._ending.values())
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def holders(self) -> set[str]:
        """Tenants holding something in this process, or whose key it remembers as valid."""
        return (
            self._connections.tenants()
            | self._agents.tenants()
            | self._sessions.tenants()
            | self._store.keys.remembered_tenants()
        )

    async def check(self) -> set[str]:
        """One poll: end what revoked tenants hold; returns those tenants."""
        revoked = await self._store.keys.revoked_among(self.holders())
        for tenant in revoked:
            self._end(tenant)
        return revoked

    def _end(self, tenant: str) -> None:
        closing = self._connections.end_tenant(tenant, REVOKED)  # no await: sockets first, at once
        if tenant in self._ending:
            return
        log.info("API key %s was revoked: closing %d connections, its agents and sessions", tenant, closing)
        task = asyncio.create_task(self._end_runs(tenant), name=f"revoke-{tenant}")
        self._ending[tenant] = task
        task.add_done_callback(lambda _: self._ending.pop(tenant, None))

    async def _end_runs(self, tenant: str) -> None:
        try:
            await self._agents.stop_tenant(tenant, REVOKED)
            await self._sessions.close_all(REVOKED, tenant=tenant)
        except Exception:
            log.exception("could not end everything of revoked key %s", tenant)

    async def _watch(self) -> None:
        failing = False
        while True:
            try:
                await self.check()
                failing = False
            except Exception:
                if not failing:  # log a failure streak once, not every interval
                    log.exception("could not check for revoked API keys; retrying")
                failing = True
            await asyncio.sleep(self._interval_s)
