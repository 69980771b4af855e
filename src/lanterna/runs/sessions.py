"""Browser sessions as tenants see them: start, page operations, stop, expiry, persistence."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError

from lanterna.actions.execute import execute as execute_action
from lanterna.browser import BrowserPool, BrowserSession, SessionOptions
from lanterna.browser.egress import EgressPolicy, EgressRefusal
from lanterna.browser.flags import chrome_args_problems
from lanterna.config import Settings
from lanterna.errors import ConflictError, InvalidRequestError, NotFoundError
from lanterna.models.actions import Action, ExecutionResult, Scrape
from lanterna.models.cookies import Cookie
from lanterna.models.files import FileInfo
from lanterna.models.observation import Observation
from lanterna.models.paging import Page
from lanterna.models.scrape import DataSpace
from lanterna.models.sessions import SessionInfo, SessionRequest
from lanterna.models.status import CloseReason, SessionStatus
from lanterna.models.time import utc_now
from lanterna.perception.latest import LatestObservation
from lanterna.perception.observe import observe as observe_page
from lanterna.reasoners.extraction import LlmExtractor
from lanterna.reasoners.ranking import LlmRanker, rank_by_keywords
from lanterna.reasoners.registry import resolve_model
from lanterna.recording import FrameKind
from lanterna.runs.profiles import ProfileService
from lanterna.runs.recordings import RecordingService
from lanterna.scrape.markdown import scrape_page
from lanterna.store import SessionRecord, Store
from lanterna.store.downloads import DownloadStorage
from lanterna.store.uploads import list_plain_files, read_plain_file, uploads_folder

log = logging.getLogger(__name__)

# Awaited with (session_id, reason) when a live session ends: before its browser is released
# when the server closes it (stop, shutdown); after, when the pool expired it or it died.
CloseListener = Callable[[str, str], Awaitable[None]]

STOPPED = CloseReason.stopped
SHUTDOWN = CloseReason.shutdown
EXPIRED = frozenset(r for r in CloseReason if r.expired)


@dataclass
class _Live:
    tenant: str
    browser: BrowserSession
    screenshot_type: str = "last_action"  # what observe's screenshot shows (notte's session option)
    # What element ids of actions (the API's and its agents') are looked up in.
    latest: LatestObservation = field(default_factory=LatestObservation)


@dataclass(frozen=True)
class CdpEndpoint:
    """Where the CDP relay connects, and what it lets through: URLs the session's egress
    policy allows, downloads only into ``downloads_dir``, files only from ``file_roots``."""

    url: str
    egress: EgressPolicy
    downloads_dir: Path
    file_roots: tuple[Path, ...]
    target_url: str | None = None  # what a page target shows, for a tab endpoint
    # Context isolation: the session's browser context in a shared browser; the relay keeps the
    # client inside it. None when the session has a browser process of its own.
    browser_context_id: str | None = None


@dataclass(frozen=True)
class TabTarget:
    """One open tab and the CDP target id of its page."""

    index: int
    title: str
    url: str
    target_id: str


def closed_reason(record: SessionRecord) -> str:
    """Why a session is no longer active, in a few words."""
    if record.error:
        return record.error
    return {"closed": STOPPED, "timed_out": "timed out", "error": "failed"}.get(record.status, record.status)


def _conflict(session_id: str, reason: str) -> ConflictError:
    return ConflictError(f"session {session_id} is closed ({reason}); start a new session")


def _not_found(session_id: str) -> NotFoundError:
    return NotFoundError(f"session {session_id} not found; list your sessions with GET /sessions")


class SessionService:
    """The session lifecycle. One browser per session; page operations are serialised per session."""

    def __init__(
        self,
        *,
        store: Store,
        pool: BrowserPool,
        settings: Settings,
        recordings: RecordingService | None = None,
        profiles: ProfileService | None = None,
        downloads: DownloadStorage | None = None,
    ) -> None:
        self.downloads = downloads  # where a session's downloads are kept once it ends
        self.profiles = profiles  # sessions started with a profile load (and may save) its state
        self.recordings = recordings  # records each session, unless it starts with recording off
        self._store = store
        self._pool = pool
        self._settings = settings
        self._live: dict[str, _Live] = {}
        self._closing: dict[str, str] = {}  # session id -> reason, while its close is under way
        self._listeners: list[CloseListener] = []

    def on_close(self, listener: CloseListener) -> None:
        """Register ``listener(session_id, reason)``, awaited whenever a live session ends."""
        self._listeners.append(listener)

    # ----- lifecycle ---------------------------------------------------------------------

    async def start(self, tenant: str, request: SessionRequest) -> SessionInfo:
        """Acquire a browser for a new session and persist it."""
        problems = request.problems() + chrome_args_problems(request.chrome_args)
        if problems:
            raise InvalidRequestError("unsupported session options: " + "; ".join(problems))
        options = SessionOptions(
            viewport_width=request.viewport_width,
            viewport_height=request.viewport_height,
            user_agent=request.user_agent,
            chrome_args=request.chrome_args,
            idle_timeout_s=request.idle_timeout_minutes * 60,
            max_duration_s=request.max_duration_minutes * 60,
        )
        profile = request.profile
        if profile is not None:
            if self.profiles is None:
                raise InvalidRequestError("profile: this server keeps no profiles; leave it out")
            await self.profiles.check_can_start(tenant, profile)
        session_id = str(uuid.uuid4())
        browser = await self._pool.acquire(options, session_id=session_id)
        if self.downloads is not None:
            browser.before_release.append(lambda b: self._keep_downloads(tenant, b))
        if profile is not None and self.profiles is not None:
            try:
                await self.profiles.attach(tenant, profile, browser)
            except BaseException:
                browser.before_release.clear()  # nothing of this session is saved into the profile
                self.profiles.detach(tenant, profile, session_id)
                await self._pool.release(browser, CloseReason.profile_not_loaded)
                raise
        now = utc_now()
        record = SessionRecord(
            id=session_id,
            tenant=tenant,
            options=request.model_dump(mode="json", exclude_none=True),
            created_at=now,
            last_accessed_at=now,
            host=self._settings.host_id,
        )
        try:
            await self._store.sessions.create(record)
        except BaseException:
            await self._pool.release(browser, CloseReason.not_saved)
            raise
        self._live[session_id] = _Live(tenant, browser, request.screenshot_type)
        if self.recordings is not None:
            await self.recordings.begin(tenant, session_id, browser, enabled=request.recording)
        return self._info(record, browser)

    async def get(self, tenant: str, session_id: str) -> SessionInfo:
        record = await self._record(tenant, session_id)
        return self._info(record, self._browser(tenant, session_id))

    async def list(
        self, tenant: str, *, only_active: bool = False, page: int = 1, page_size: int = 20
    ) -> Page[SessionInfo]:
        records, total = await self._store.sessions.list(
            tenant, only_active=only_active, page=page, page_size=page_size
        )
        items = [self._info(r, self._browser(tenant, r.id)) for r in records]
        return Page[SessionInfo](items=items, page=page, page_size=page_size, total=total)

    async def stop(self, tenant: str, session_id: str) -> SessionInfo:
        """Close the session. Idempotent: the answer's status is ``closed`` whatever ended it first."""
        record = await self._record(tenant, session_id)
        live = self._live.get(session_id)
        if live is not None:
            record = await self._close(live.browser, "closed", None, release=True, wait=False) or record
        elif record.status == "active":  # its browser is gone (e.g. another server process owned it)
            record = (
                await self._store.sessions.update(
                    session_id,
                    status="closed",
                    error=CloseReason.browser_gone,
                    closed_at=utc_now(),
                    only_if_active=True,
                )
                or record
            )
        info = self._info(record, None)
        # The session is closed now, whatever closed it first; the stored status keeps the cause.
        return info.model_copy(update={"status": "closed"})

    async def expired(self, browser: BrowserSession, reason: str) -> None:
        """The pool released ``browser`` (idle timeout, max duration, or the browser died)."""
        status: SessionStatus = "timed_out" if reason in EXPIRED else "error"
        await self._close(browser, status, reason, release=False)

    async def close_all(self, reason: str = SHUTDOWN, *, tenant: str | None = None) -> None:
        """Close every live session (server shutdown), or every one of ``tenant``."""
        await asyncio.gather(
            *[
                self._close(live.browser, "closed", reason, release=True)
                for live in list(self._live.values())
                if tenant is None or live.tenant == tenant
            ],
            return_exceptions=True,
        )

    def tenants(self) -> set[str]:
        """Tenants with a live session."""
        return {live.tenant for live in self._live.values()}

    async def _close(
        self,
        browser: BrowserSession,
        status: SessionStatus,
        error: str | None,
        *,
        release: bool,
        wait: bool = True,
    ) -> SessionRecord | None:
        """Notify, release (unless the pool already did), persist and forget; the first closer wins."""
        if browser.id not in self._live or browser.id in self._closing:
            return None
        reason = error or STOPPED
        self._closing[browser.id] = reason  # page calls get a 409 from now on
        try:
            await self._notify(browser.id, reason)
            if release:  # wait=False: the browser dies in the background, off the caller's path
                await self._pool.release(browser, reason, wait=wait)
            return await self._store.sessions.update(
                browser.id,
                status=status,
                error=error,
                closed_at=utc_now(),
                last_accessed_at=browser.last_active_at,
                only_if_active=True,
            )
        finally:
            self._live.pop(browser.id, None)
            self._closing.pop(browser.id, None)

    async def _keep_downloads(self, tenant: str, browser: BrowserSession) -> None:
        if self.downloads is not None:
            await asyncio.to_thread(self.downloads.keep, tenant, browser.id, browser.downloads_dir)

    async def downloaded_files(self, tenant: str, session_id: str) -> builtins.list[FileInfo]:
        """The session's downloads: in its browser while it runs, kept in storage after."""
        await self._record(tenant, session_id)  # another tenant's session is a 404
        browser = self._browser(tenant, session_id)
        if browser is not None and not browser.closed:
            return list_plain_files(browser.downloads_dir)
        return self.downloads.list(tenant, session_id) if self.downloads is not None else []

    async def downloaded_file(self, tenant: str, session_id: str, name: str) -> bytes | None:
        """One of the session's downloads by name; ``None`` if it has none of that name."""
        await self._record(tenant, session_id)
        browser = self._browser(tenant, session_id)
        if browser is not None and not browser.closed:
            limit = self.downloads.max_file_bytes if self.downloads is not None else 0
            return read_plain_file(browser.downloads_dir, name, limit)
        return self.downloads.read(tenant, session_id, name) if self.downloads is not None else None

    async def add_download(
        self, tenant: str, session_id: str, name: str, chunks: AsyncIterator[bytes]
    ) -> FileInfo:
        """Put a file among a running session's downloads (kept with them when it ends, and
        offered to ``upload_file``). ``NotFoundError`` for another tenant's or an unknown
        session, ``ConflictError`` once it has ended."""
        if self.downloads is None:
            raise InvalidRequestError("this server keeps no session downloads")
        browser = await self.live(tenant, session_id)
        browser.touch()
        info = await self.downloads.add(tenant, session_id, browser.downloads_dir, name, chunks)
        if browser.closed and self.downloads.read(tenant, session_id, name) is None:
            raise _conflict(session_id, browser.closed_reason or STOPPED)
        return info

    async def _notify(self, session_id: str, reason: str) -> None:
        for listener in self._listeners:
            try:
                await listener(session_id, reason)
            except Exception:
                log.exception("a close listener failed for session %s", session_id)

    # ----- page operations ---------------------------------------------------------------

    async def live(self, tenant: str, session_id: str) -> BrowserSession:
        """The tenant's running browser. ``NotFoundError`` if unknown, ``ConflictError`` if closed."""
        browser = self._browser(tenant, session_id)
        if browser is not None:
            closing = self._closing.get(session_id)
            if closing is not None:
                raise _conflict(session_id, closing)
            return browser
        record = await self._record(tenant, session_id)
        if record.status == "active":
            raise _conflict(session_id, CloseReason.browser_gone)
        raise _conflict(session_id, closed_reason(record))

    @contextlib.asynccontextmanager
    async def using(self, tenant: str, session_id: str) -> AsyncIterator[BrowserSession]:
        """Hold the session's lock for one page operation; a session closed meanwhile is a 409."""
        browser = await self.live(tenant, session_id)
        async with browser.lock:
            if browser.closed:
                raise _conflict(session_id, browser.closed_reason or STOPPED)
            browser.touch()
            try:
                yield browser
            except PlaywrightError as exc:
                if browser.closed:  # the browser went away under the operation
                    raise _conflict(session_id, browser.closed_reason or STOPPED) from exc
                raise
            finally:
                browser.touch()

    async def observe(
        self,
        tenant: str,
        session_id: str,
        *,
        max_elements: int = 100,
        instructions: str | None = None,
        screenshot: bool | None = None,
    ) -> Observation:
        """The page with its actions: ranked by ``instructions``, at most ``max_elements``.

        Without an explicit ``screenshot`` the session's ``screenshot_type`` decides: ``full``
        captures the whole page, the others the viewport (notte's clients always expect one).
        """
        live = self._live.get(session_id)
        screenshot_type = live.screenshot_type if live is not None else "last_action"
        async with self.using(tenant, session_id) as browser:
            observation = await observe_page(
                browser,
                screenshot=screenshot is not False,
                full_page=screenshot_type == "full",
                latest=self.latest_observation(session_id),
            )
        elements = observation.elements
        if instructions:
            model = resolve_model(None, self._settings)
            if "/" in model:
                elements = await LlmRanker(model, self._settings).rank(elements, instructions)
            else:
                elements = rank_by_keywords(elements, instructions)
        # The session keeps every element addressable; only the answer is cut.
        return observation.model_copy(update={"elements": elements[:max_elements]})

    async def execute(self, tenant: str, session_id: str, action: Action) -> ExecutionResult:
        """Run one action and persist its result (which advances the session's offset)."""
        async with self.using(tenant, session_id) as browser:
            uploads = uploads_folder(self._settings.home, tenant)
            if self.recordings is not None:  # the previous action's screenshot shows its own page
                await self.recordings.settle(session_id)
            extractor = self._extractor(action) if isinstance(action, Scrape) else None
            scraper = functools.partial(scrape_page, extractor=extractor)
            result = await execute_action(
                browser,
                action,
                file_roots=(uploads,),
                scraper=scraper,
                observed=self.latest_observation(session_id),
            )
            if self.recordings is not None:
                self.recordings.screenshot(session_id, FrameKind.action)
            await self._store.sessions.add_action(session_id, result)
        return result

    async def scrape(self, tenant: str, session_id: str, scrape: Scrape) -> DataSpace:
        extractor = self._extractor(scrape)
        async with self.using(tenant, session_id) as browser:
            return await scrape_page(browser.page, scrape, extractor)

    def _extractor(self, scrape: Scrape) -> LlmExtractor | None:
        """The configured LLM for a structured scrape; None: the offline extractor."""
        model = resolve_model(None, self._settings)
        if (scrape.instructions or scrape.response_format) and "/" in model:
            return LlmExtractor(model, self._settings)
        return None

    def latest_observation(self, session_id: str) -> LatestObservation | None:
        """The live session's latest observation, shared by its page calls and its agents."""
        live = self._live.get(session_id)
        return live.latest if live is not None else None

    async def offset(self, tenant: str, session_id: str) -> int:
        return (await self._record(tenant, session_id)).offset

    # ----- cookies and debugging ---------------------------------------------------------

    async def cookies(self, tenant: str, session_id: str) -> builtins.list[Cookie]:
        browser = await self.live(tenant, session_id)
        browser.touch()
        return await browser.cookies()

    async def set_cookies(self, tenant: str, session_id: str, cookies: builtins.list[Cookie]) -> int:
        browser = await self.live(tenant, session_id)
        browser.touch()
        await browser.add_cookies(cookies)
        return len(cookies)

    async def refusals(self, tenant: str, session_id: str) -> builtins.list[EgressRefusal]:
        """The latest requests of the session that the egress policy refused, oldest first."""
        browser = await self.live(tenant, session_id)
        return builtins.list(browser.refusals)

    async def tabs(self, tenant: str, session_id: str) -> builtins.list[TabTarget]:
        """The open tabs with the CDP target id of each (for per-tab debugging URLs)."""
        browser = await self.live(tenant, session_id)
        return [
            TabTarget(index, target.get("title", ""), target.get("url", ""), target["targetId"])
            for index, target in enumerate(await browser.tab_targets())
        ]

    async def cdp_endpoint(self, tenant: str, session_id: str, target_id: str | None = None) -> CdpEndpoint:
        """The browser's loopback CDP websocket (or one page target's) and what limits its relay."""
        browser = await self.live(tenant, session_id)
        browser.touch()
        url, target_url = browser.cdp_url, None
        if target_id is not None:
            parts = urlsplit(browser.cdp_url)
            url = f"{parts.scheme}://{parts.netloc}/devtools/page/{target_id}"
            if browser.browser_context_id is not None and target_id not in {
                target["targetId"] for target in await browser.tab_targets()
            }:  # a shared browser: only the session's own tabs
                raise NotFoundError(
                    f"tab target {target_id} not found in session {session_id}; "
                    "see GET /sessions/{id}/debug"
                )
            target_url = await browser.target_url(target_id)
        uploads = uploads_folder(self._settings.home, tenant)
        return CdpEndpoint(
            url,
            browser.egress,
            browser.downloads_dir,
            (uploads,),
            target_url,
            browser_context_id=browser.browser_context_id,
        )

    # ----- helpers -----------------------------------------------------------------------

    def _browser(self, tenant: str, session_id: str) -> BrowserSession | None:
        live = self._live.get(session_id)
        return live.browser if live is not None and live.tenant == tenant else None

    async def _record(self, tenant: str, session_id: str) -> SessionRecord:
        record = await self._store.sessions.get(tenant, session_id)
        if record is None:
            raise _not_found(session_id)
        return record

    @staticmethod
    def _info(record: SessionRecord, browser: BrowserSession | None) -> SessionInfo:
        options = SessionRequest.model_validate(record.options)
        last_accessed = record.last_accessed_at
        if browser is not None:
            last_accessed = max(last_accessed, browser.last_active_at)
        return SessionInfo(
            session_id=record.id,
            status=record.status,
            idle_timeout_minutes=options.idle_timeout_minutes,
            max_duration_minutes=options.max_duration_minutes,
            created_at=record.created_at,
            last_accessed_at=last_accessed,
            closed_at=record.closed_at,
            error=record.error,
            headless=options.headless,
            browser_type=options.browser_type,
            user_agent=options.user_agent,
            viewport_width=options.viewport_width,
            viewport_height=options.viewport_height,
        )
