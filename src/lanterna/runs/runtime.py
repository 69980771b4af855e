"""Everything one server process runs: the store, the browser pool, the session and agent services."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging

from lanterna.browser import BrowserPool, BrowserSession
from lanterna.config import Settings
from lanterna.models.retention import RetentionPolicy
from lanterna.models.time import utc_now
from lanterna.runs.agents import AgentService
from lanterna.runs.connections import ConnectionRegistry
from lanterna.runs.placement import RayPlacement
from lanterna.runs.profiles import ProfileService
from lanterna.runs.recordings import RecordingService
from lanterna.runs.revocation import RevocationWatcher
from lanterna.runs.sessions import SHUTDOWN, SessionService
from lanterna.runs.vaults import SecretCipher, VaultService, load_key
from lanterna.store import Store
from lanterna.store.downloads import DownloadStorage
from lanterna.store.profiles import ProfileStates
from lanterna.store.uploads import UploadStorage

log = logging.getLogger(__name__)

RESTARTED = "server restarted"


class Runtime:
    """Build with ``await Runtime.start(settings)``; ``await runtime.close()`` closes every session."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.pool = BrowserPool(settings, on_expire=self._on_expire, server_ports={settings.port})
        self.recordings = RecordingService(store=store, settings=settings)
        self.profiles = ProfileService(store, ProfileStates(settings.home))
        self.downloads = DownloadStorage(
            settings.home,
            max_file_bytes=settings.upload_max_file_bytes,
            max_files=settings.upload_max_files,
            policy=RetentionPolicy(
                max_age_s=settings.download_retention_hours * 3600,
                max_total_bytes=int(settings.download_max_tenant_mb * 1024 * 1024),
            ),
        )
        self._download_retention: asyncio.Task[None] | None = None
        self.sessions = SessionService(
            store=store,
            pool=self.pool,
            settings=settings,
            recordings=self.recordings,
            profiles=self.profiles,
            downloads=self.downloads,
        )
        self.sessions.on_close(self.recordings.end)
        self.agents = AgentService(store=store, sessions=self.sessions, settings=settings)
        vault_key = load_key(settings)
        self.vaults = VaultService(store, SecretCipher(vault_key))
        # Signs download links. Derived from the kept vault key, so a link outlives a restart
        # (within its ten minutes) and works on every server sharing the key.
        self.link_secret = hmac.new(vault_key, b"lanterna download links", hashlib.sha256).digest()
        self.connections = ConnectionRegistry()
        self.uploads = UploadStorage(
            settings.home,
            max_file_bytes=settings.upload_max_file_bytes,
            max_tenant_bytes=settings.upload_max_tenant_bytes,
            max_files=settings.upload_max_files,
        )
        self.placement: RayPlacement | None = None  # cluster mode: where sessions live (set by the server)
        self.revocations = RevocationWatcher(
            store=store,
            connections=self.connections,
            agents=self.agents,
            sessions=self.sessions,
            interval_s=settings.revocation_poll_s,
        )

    @classmethod
    async def start(cls, settings: Settings) -> Runtime:
        """Open (and migrate) the store, close what a crash left open, start the pool.

        In a cluster (``ray_address`` or ``host_id`` set) the store is shared: what other
        processes run is theirs, and lost hosts are ended by the cluster watch instead. A
        replica (``ray_address``) runs no browser of its own.
        """
        store = await Store.open(settings.resolved_database_url)
        clustered = settings.ray_address is not None or settings.host_id is not None
        try:
            if not clustered:
                agents = await store.agents.mark_running_as_closed()
                sessions = await store.sessions.mark_active_as_closed(RESTARTED)
                await store.recordings.mark_recording_as_finished(utc_now())
                if sessions or agents:
                    log.info(
                        "closed %d sessions and %d agents left running by a previous process",
                        sessions,
                        agents,
                    )
            runtime = cls(settings, store)
            if settings.ray_address is None:
                await runtime.pool.start()  # also kills browsers orphaned by a crash
            runtime.revocations.start()
            runtime.recordings.start()
            runtime._download_retention = asyncio.create_task(
                runtime._retain_downloads(), name="download-retention"
            )
        except BaseException:
            await store.close()
            raise
        return runtime

    async def close(self) -> None:
        """Stop agents, close every session and browser, then the store."""
        try:
            if self.placement is not None:
                await self.placement.close()
            if self._download_retention is not None:
                self._download_retention.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._download_retention
            await self.revocations.close()
            await self.agents.close()
            await self.sessions.close_all(SHUTDOWN)
            await self.recordings.close()
        finally:
            await self.pool.close()
            await self.store.close()

    async def _on_expire(self, browser: BrowserSession, reason: str) -> None:
        await self.sessions.expired(browser, reason)

    async def _retain_downloads(self) -> None:
        while True:
            try:
                report = await asyncio.to_thread(self.downloads.enforce)
                if report.deleted:
                    log.info("retention removed %d downloads (%d bytes)", report.deleted, report.freed_bytes)
            except Exception:
                log.exception("download retention failed")
            await asyncio.sleep(self.settings.download_retention_interval_s)
