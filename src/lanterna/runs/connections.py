"""Open client connections (WebSockets) per tenant, so that revoking a key can end them at once.

The registry knows nothing about the protocol: the server registers each connection around its
work and waits on ``Connection.ended``; ``end_tenant`` sets it, and the server then closes the
socket with ``Connection.reason``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(eq=False)
class Connection:
    """One open connection of a tenant. ``ended`` is set when the server must close it."""

    tenant: str
    kind: str  # what it is, for logs: "cdp", "agent logs"
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str | None = None


class ConnectionRegistry:
    """The open connections of every tenant of this process."""

    def __init__(self) -> None:
        self._open: dict[str, set[Connection]] = {}

    @contextmanager
    def track(self, tenant: str, kind: str) -> Iterator[Connection]:
        """Register a connection for the duration of the ``with`` block."""
        connection = Connection(tenant, kind)
        self._open.setdefault(tenant, set()).add(connection)
        try:
            yield connection
        finally:
            held = self._open.get(tenant)
            if held is not None:
                held.discard(connection)
                if not held:
                    del self._open[tenant]

    def tenants(self) -> set[str]:
        """Tenants with at least one open connection."""
        return set(self._open)

    def count(self, tenant: str) -> int:
        return len(self._open.get(tenant, ()))

    def end_tenant(self, tenant: str, reason: str) -> int:
        """Ask every open connection of ``tenant`` to close with ``reason``; returns how many."""
        held = list(self._open.get(tenant, ()))
        for connection in held:
            if not connection.ended.is_set():
                connection.reason = reason
                connection.ended.set()
        return len(held)
