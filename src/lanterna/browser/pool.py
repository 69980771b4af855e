"""The warm browser pool: launch ahead, hand out in milliseconds, reap and release."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from lanterna.browser import watchdog
from lanterna.browser.chromium import (
    DEFAULT_WINDOW,
    ChromiumProcess,
    chromium_command,
    find_chromium,
    kill_process_group,
)
from lanterna.browser.chromium import launch_chromium as _launch_process
from lanterna.browser.demand import Demand
from lanterna.browser.egress import EgressPolicy
from lanterna.browser.flags import chrome_args_problems
from lanterna.browser.profile import (
    PLAYWRIGHT_PREFIX,
    create_profile_dir,
    default_profile_root,
    discard_profile,
    remove_profile_dir,
    sweep_orphans,
    write_marker,
)
from lanterna.browser.proxy import EgressProxy
from lanterna.browser.sandbox import BrowserSandbox, Isolation, detect_isolation
from lanterna.browser.session import BrowserSession, SessionOptions
from lanterna.config import Settings, get_settings
from lanterna.errors import CapacityError, ConflictError, InvalidRequestError
from lanterna.models.status import CloseReason
from lanterna.models.time import utc_now

log = logging.getLogger(__name__)
BEFORE_RELEASE_TIMEOUT_S = 10.0  # a session's state is saved within this, or not at all

ExpireCallback = Callable[[BrowserSession, str], Awaitable[None]]

REAP_INTERVAL_S = 0.5
WARM_NICENESS = 10
# Only root may raise a process's priority again once a session takes the browser.
_CAN_RAISE_PRIORITY = os.geteuid() == 0
KILL_GRACE_S = 0.0  # the profile is thrown away: a graceful exit buys nothing
CONTEXT_CLOSE_TIMEOUT_S = 5.0
PARALLEL_CONTEXT_OPENS = 4  # contexts opened ahead at once: enough to keep up, few enough to not hog
LAUNCH_RETRY_S = 1.0  # after a failed background launch
GROWTH_FACTOR = 4  # without LANTERNA_POOL_MAX_SIZE, demand grows the pool to this × its minimum
PARALLEL_LAUNCHES_FOR_WAITERS = 2  # browsers launched at once for starts that wait (2 cores)
PREPARING_GRACE_S = 60.0  # a start past its wait still waits this long for a browser being launched


@dataclass
class _ReadyContext:
    """A browser context opened ahead, with its first tab, for the next session to take."""

    context: BrowserContext
    page: Page
    browser_context_id: str


@dataclass
class _Browser:
    chromium: ChromiumProcess
    browser: Browser
    proxy: EgressProxy
    # Context isolation: the sessions it serves now, how many it has served, how many contexts
    # were ever opened in it (its session budget counts these), contexts being closed or opened,
    # contexts opened ahead, and whether it takes no new session (recycled once the last one leaves).
    sessions: set[str] = field(default_factory=set)
    served: int = 0
    opened: int = 0
    resetting: int = 0
    opening: int = 0
    ready: list[_ReadyContext] = field(default_factory=list)
    retired: bool = False
    niced: bool = False  # launched at lower CPU priority; raised when a session takes it

    @property
    def healthy(self) -> bool:
        return self.browser.is_connected() and self.chromium.process.returncode is None

    @property
    def slots_taken(self) -> int:
        """Contexts it holds or is about to: in use, closing, opening and ready."""
        return len(self.sessions) + self.resetting + self.opening + len(self.ready)

    def raise_priority(self) -> None:
        """Back to normal CPU priority: a session uses it now."""
        if self.niced:
            self.niced = False
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PGRP, self.chromium.pid, 0)


class BrowserPool:
    """Keeps browsers launched and ready; each session gets its own browser process, or (context
    isolation) its own browser context in a shared browser.

    ``acquire()`` takes a warm browser, or a context opened ahead, when one is ready
    (milliseconds); otherwise it launches one (process isolation) or waits for the background
    refill (context isolation). How many are kept ready follows demand: the most sessions started
    within one second over the last ``LANTERNA_POOL_DEMAND_WINDOW_S``, between ``size`` and
    ``max_size``. Background launches run at lower CPU priority than browsers in use. At most
    ``max_browsers`` browsers run at once; a start that finds them all busy waits up to
    ``LANTERNA_ACQUIRE_WAIT_S`` for one. Sessions past their idle timeout or maximum duration are
    released by the pool, which then awaits ``on_expire(session, reason)``.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        size: int | None = None,
        max_size: int | None = None,
        max_browsers: int | None = None,
        on_expire: ExpireCallback | None = None,
        profile_root: Path | None = None,
        extra_args: list[str] | None = None,
        server_ports: set[int] | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.size = self.settings.pool_size if size is None else size
        configured = self.settings.pool_max_size if max_size is None else max_size
        self.max_size = max(self.size, GROWTH_FACTOR * self.size if configured is None else configured)
        self.demand = Demand(self.settings.pool_demand_window_s)
        self.max_browsers = self.settings.max_browsers if max_browsers is None else max_browsers
        self.on_expire = on_expire
        self.profile_root = profile_root or default_profile_root()
        self.extra_args = list(extra_args or [])  # appended to every launch (e.g. host-resolver rules)
        # Ports of this host no page may reach: the server's, every browser's DevTools and proxy port.
        self.server_ports = set(server_ports or ())
        self.egress = EgressPolicy.from_settings(
            self.settings, protected_ports=self.protected_ports, server_ports=lambda: self.server_ports
        )
        self.sandbox = BrowserSandbox(Isolation.NONE, uid_base=self.settings.browser_uid_base)
        self._binary: str | None = None
        self._playwright: Playwright | None = None
        self._warm: list[_Browser] = []
        self._launching = 0  # launches in flight, for the cap
        self._warming = 0  # of which by the refill loop
        self._waiting = 0  # acquires waiting for one of those
        self._sessions: dict[str, BrowserSession] = {}
        self._entries: dict[str, _Browser] = {}  # session id -> its browser, for protected_ports
        self._shared: list[_Browser] = []  # context isolation: browsers serving sessions
        self._proxy_ports: set[int] = set()  # of launches still under way
        self._acquiring: set[str] = set()  # ids of acquires under way
        self._refill_needed = asyncio.Event()
        self._warm_ready = asyncio.Condition()
        self._capacity_freed = asyncio.Condition()  # a session was released: a waiting start may go
        self._ready_changed = asyncio.Condition()  # context isolation: a context was opened ahead
        self._context_waiters = 0  # acquires waiting for one
        self._capacity_waiters = 0  # acquires waiting for a browser to be released
        self._shared_launches = 0  # context isolation: browsers being launched by the refill
        self._last_target = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._expiring: set[asyncio.Task[None]] = set()
        self._deleting: set[asyncio.Task[None]] = set()  # profile trees being removed
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._scratch: Path | None = None  # Playwright's temporary folder, with per-browser users
        self._started = False
        self._closed = False

    # ----- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Sweep orphans of crashed processes, start Playwright, and begin warming browsers."""
        if self._started:
            return
        self._binary = find_chromium(self.settings)
        self.sandbox.isolation = await asyncio.to_thread(
            detect_isolation, self.settings.browser_isolation, self._binary
        )
        await asyncio.to_thread(sweep_orphans, self.profile_root)
        self.profile_root.mkdir(parents=True, exist_ok=True)
        self._watchdog = watchdog.spawn(self.profile_root)
        self._playwright, self._scratch = await _start_playwright(
            self.profile_root, shared=self.sandbox.isolation is Isolation.USER
        )
        self._started = True
        self._tasks = [
            asyncio.create_task(self._refill_loop(), name="lanterna-pool-refill"),
            asyncio.create_task(self._reap_loop(), name="lanterna-pool-reaper"),
        ]
        self._refill_needed.set()

    async def __aenter__(self) -> BrowserPool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Release every session, kill warm browsers and stop Playwright."""
        if self._closed or not self._started:
            self._closed = True
            return
        self._closed = True
        refill, reaper = self._tasks
        reaper.cancel()
        self._refill_needed.set()  # the refill loop finishes its launch in progress, then exits
        for task in (refill, reaper, *self._expiring):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=60)
        await asyncio.gather(
            *(self.release(s, CloseReason.pool_closed) for s in list(self._sessions.values())),
            *(self._dispose(b) for b in self._warm),
            return_exceptions=True,
        )
        self._warm.clear()
        await asyncio.gather(*self._expiring, return_exceptions=True)  # resets under way
        await asyncio.gather(*(self._dispose(b) for b in self._shared), return_exceptions=True)
        self._shared.clear()
        await asyncio.gather(*self._deleting, return_exceptions=True)
        if self._playwright is not None:
            with contextlib.suppress(Exception):
                await self._playwright.stop()
            self._playwright = None
        if self._scratch is not None:
            remove_profile_dir(self._scratch)
            self._scratch = None
        if self._watchdog is not None and self._watchdog.stdin is not None:
            self._watchdog.stdin.close()  # nothing is left for it; it checks and exits
            self._watchdog = None

    @property
    def live_count(self) -> int:
        """Sessions acquired and not yet released."""
        return len(self._sessions)

    @property
    def warm_count(self) -> int:
        """Warm browsers waiting for a session (process isolation)."""
        return len(self._warm)

    @property
    def ready_count(self) -> int:
        """What the next acquires take without waiting: contexts opened ahead (context isolation)
        or warm browsers."""
        if self.context_isolation:
            return sum(len(e.ready) for e in self._shared if not e.retired and e.healthy)
        return len(self._warm)

    @property
    def ready_context_ids(self) -> list[str]:
        """CDP ids of the contexts opened ahead and not yet taken (context isolation)."""
        return [r.browser_context_id for e in self._shared if not e.retired for r in e.ready]

    @property
    def waiting_count(self) -> int:
        """Starts waiting because every browser (or every context slot) is busy."""
        return self._context_waiters + self._capacity_waiters

    async def wait_until_ready(self, count: int, timeout_s: float) -> None:
        """Return once ``ready_count >= count``; ``TimeoutError`` after ``timeout_s``."""
        changed = self._ready_changed if self.context_isolation else self._warm_ready
        async with changed:
            await asyncio.wait_for(changed.wait_for(lambda: self.ready_count >= count), timeout_s)

    @property
    def sessions(self) -> list[BrowserSession]:
        return list(self._sessions.values())

    def protected_ports(self) -> set[int]:
        """The server's ports and every browser's DevTools and proxy port."""
        entries = [*self._warm, *self._entries.values(), *self._shared]
        return {
            *self.server_ports,
            *(e.chromium.port for e in entries),
            *(e.proxy.port for e in entries),
            *self._proxy_ports,
        }

    def _total(self) -> int:
        """Browsers running or launching."""
        in_use = {id(e) for e in self._entries.values()} | {id(e) for e in self._shared}
        return len(in_use) + len(self._warm) + self._launching

    @property
    def context_isolation(self) -> bool:
        return self.settings.isolation == "context"

    # ----- acquire / release -----------------------------------------------------------

    async def acquire(
        self, options: SessionOptions | None = None, *, session_id: str | None = None
    ) -> BrowserSession:
        """A ready session: from the warm pool when possible. ``CapacityError`` when none can be
        had within ``LANTERNA_ACQUIRE_WAIT_S`` (every browser busy, or none would start)."""
        if not self._started or self._closed:
            raise ConflictError("the browser pool is not running; call start() first")
        options = options or SessionOptions()
        session_id = session_id or str(uuid.uuid4())
        if session_id in self._sessions or session_id in self._acquiring:
            raise ConflictError(f"a browser session with id '{session_id}' already exists")
        self.demand.record()
        if self.context_isolation and not options.needs_cold_launch:
            return await self._acquire_context(options, session_id)
        self._acquiring.add(session_id)
        try:
            entry = None if options.needs_cold_launch else await self._take_warm()
            if entry is None:
                entry = await self._launch_until_deadline(options)
            entry.raise_priority()
            # Counted as live from here on, with no await in between: the cap holds under concurrency.
            session = BrowserSession(
                session_id,
                entry.chromium,
                entry.browser,
                options,
                self.settings,
                egress=self.egress,
                proxy=entry.proxy,
            )
            entry.proxy.label = session_id
            self._sessions[session_id] = session
            self._entries[session_id] = entry
        finally:
            self._acquiring.discard(session_id)
        try:
            await session.prepare()
        except BaseException:
            self._sessions.pop(session_id, None)
            self._entries.pop(session_id, None)
            session.closed_reason = CloseReason.not_prepared
            await self._dispose(entry)
            session.released.set()
            raise
        entry.browser.on("disconnected", lambda _: self._on_disconnected(session))
        self._refill_needed.set()
        return session

    async def _launch_until_deadline(self, options: SessionOptions) -> _Browser:
        """Launch a browser; a launch the busy machine let time out is retried while the wait lasts."""
        deadline = time.monotonic() + self.settings.acquire_wait_s
        while True:
            try:
                return await self._launch_within_cap(options, deadline=deadline)
            except CapacityError:
                if time.monotonic() + LAUNCH_RETRY_S >= deadline:
                    raise
            await asyncio.sleep(LAUNCH_RETRY_S)

    async def _acquire_context(self, options: SessionOptions, session_id: str) -> BrowserSession:
        """A browser context opened ahead in a shared warm browser (context isolation)."""
        self._acquiring.add(session_id)
        try:
            entry, ready = await self._take_ready()
            # Counted as live from here on, with no await in between.
            entry.sessions.add(session_id)
            entry.served += 1
            session = BrowserSession(
                session_id,
                entry.chromium,
                entry.browser,
                options,
                self.settings,
                egress=self.egress,
                proxy=entry.proxy,
                context=ready.context,
                browser_context_id=ready.browser_context_id,
            )
            self._sessions[session_id] = session
            self._entries[session_id] = entry
        finally:
            self._acquiring.discard(session_id)
        self._refill_needed.set()  # open the next one ahead
        entry.raise_priority()
        try:
            await session.prepare()
        except BaseException:
            session.closed_reason = "could not be prepared"
            self._sessions.pop(session_id, None)
            self._entries.pop(session_id, None)
            entry.sessions.discard(session_id)
            self._retire(entry, "a context could not be prepared")  # it cannot be proven gone
            entry.resetting += 1
            self._expire_task(self._reset_context(entry, session))
            raise
        return session

    async def _take_ready(self) -> tuple[_Browser, _ReadyContext]:
        """A context opened ahead; waits for the refill, up to ``LANTERNA_ACQUIRE_WAIT_S`` and
        then for as long as a browser or context is still being prepared (each has its own
        time limit, up to ``PREPARING_GRACE_S`` more): a busy machine slows a start, not fails it."""
        deadline = time.monotonic() + self.settings.acquire_wait_s
        async with self._ready_changed:
            while True:
                found = self._pop_ready()
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 and self._preparing() and remaining > -PREPARING_GRACE_S:
                    remaining = min(1.0, remaining + PREPARING_GRACE_S)  # look again soon
                if remaining <= 0:
                    raise self._no_context_error()
                self._context_waiters += 1
                self._refill_needed.set()
                try:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._ready_changed.wait(), remaining)
                finally:
                    self._context_waiters -= 1

    def _pop_ready(self) -> tuple[_Browser, _ReadyContext] | None:
        for entry in self._shared:
            if entry.retired or not entry.healthy:
                continue
            while entry.ready:
                ready = entry.ready.pop(0)
                if not ready.page.is_closed():
                    return entry, ready
                self._retire(entry, "a context opened ahead lost its tab")
        return None

    def _preparing(self) -> bool:
        """A browser is being launched or a context opened: a waiting start may get it."""
        return self._launching > 0 or any(e.opening for e in self._shared)

    def _no_context_error(self) -> CapacityError:
        wait_s = self.settings.acquire_wait_s
        if self._total() >= self.max_browsers:
            why = (
                f"all {self.max_browsers} browsers serve {self.settings.contexts_per_browser} sessions "
                f"each and none was released within {wait_s:g} s"
            )
        else:
            why = f"no browser could be started within {wait_s:g} s (the machine is busy launching browsers)"
        return CapacityError(
            f"{why}; close a session or retry later (LANTERNA_MAX_BROWSERS and "
            "LANTERNA_CONTEXTS_PER_BROWSER raise the cap, LANTERNA_ACQUIRE_WAIT_S the wait)",
            retry_after_s=max(1, round(wait_s / 10)),
        )

    def _shared_with_room(self) -> _Browser | None:
        """A shared browser that may open one more context: under both its caps, not retired."""
        for entry in self._shared:
            if (
                not entry.retired
                and entry.healthy
                and entry.slots_taken < self.settings.contexts_per_browser
                and entry.opened < self.settings.sessions_per_browser
            ):
                return entry
        return None

    async def _new_context(self, entry: _Browser) -> _ReadyContext:
        """A fresh context with its first tab, at the default viewport."""
        width, height = DEFAULT_WINDOW
        # No proxy of its own: the context inherits the browser's, which the egress layers enforce.
        context = await entry.browser.new_context(viewport={"width": width, "height": height})
        try:
            context.on("page", lambda page: self._watch_crash(entry, page))
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            info = await cdp.send("Target.getTargetInfo")
            await cdp.detach()
        except BaseException:
            with contextlib.suppress(Exception):
                await context.close()
            raise
        return _ReadyContext(context, page, info["targetInfo"]["browserContextId"])

    async def _open_ahead(self, entry: _Browser) -> None:
        """Open one context ahead in ``entry`` (its slot is counted by the caller)."""
        ready: _ReadyContext | None = None
        try:
            ready = await self._new_context(entry)
        except Exception as exc:
            if entry.healthy and not self._closed:
                self._retire(entry, f"opening a context failed ({exc})")
        finally:
            entry.opening -= 1
        if ready is not None:
            if entry.retired or self._closed or not entry.healthy:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ready.context.close(), CONTEXT_CLOSE_TIMEOUT_S)
            else:
                entry.ready.append(ready)
        async with self._ready_changed:
            self._ready_changed.notify_all()
        await self._recycle_if_idle(entry)
        self._refill_needed.set()

    def _watch_crash(self, entry: _Browser, page: Page) -> None:
        # A renderer that crashed may have been exploited: its browser takes no new session.
        page.on("crash", lambda _: self._retire(entry, "a renderer crashed"))

    def _retire(self, entry: _Browser, why: str) -> None:
        """No new session for ``entry``: its contexts opened ahead go, and it is killed once idle."""
        if not entry.retired:
            log.info("browser pid %s retired: %s", entry.chromium.pid, why)
        entry.retired = True
        if entry.ready:
            entry.ready.clear()  # killed with the browser
            self._refill_needed.set()
        if not self._closed:
            self._expire_task(self._recycle_if_idle(entry))

    def _disconnect_handler(self, entry: _Browser) -> Callable[[Browser], None]:
        return lambda _: self._on_shared_disconnected(entry)

    def _on_shared_disconnected(self, entry: _Browser) -> None:
        if self._closed:
            entry.retired = True
            return
        self._retire(entry, "the browser exited")
        for session_id in list(entry.sessions):
            session = self._sessions.get(session_id)
            if session is not None and not session.closed:
                self._expire(session, CloseReason.browser_exited)

    async def _reset_context(self, entry: _Browser, session: BrowserSession) -> None:
        """Close the session's context and prove nothing of it is left; otherwise retire the browser."""
        try:
            await asyncio.wait_for(session.context.close(), CONTEXT_CLOSE_TIMEOUT_S)
            if not await asyncio.wait_for(self._context_gone(entry, session), CONTEXT_CLOSE_TIMEOUT_S):
                self._retire(entry, "targets of a closed context remained")
        except Exception as exc:
            self._retire(entry, f"closing a context failed ({exc})")
        finally:
            entry.resetting -= 1
            await asyncio.to_thread(_remove_tree, session.downloads_dir)
        await self._recycle_if_idle(entry)
        session.released.set()
        await self._capacity_changed()
        self._refill_needed.set()

    async def _context_gone(self, entry: _Browser, session: BrowserSession) -> bool:
        if not entry.healthy:
            return False
        cdp = await entry.browser.new_browser_cdp_session()
        try:
            contexts = (await cdp.send("Target.getBrowserContexts"))["browserContextIds"]
            targets = (await cdp.send("Target.getTargets"))["targetInfos"]
        finally:
            with contextlib.suppress(Exception):
                await cdp.detach()
        own = session.browser_context_id
        return own not in contexts and not any(t.get("browserContextId") == own for t in targets)

    async def _recycle_if_idle(self, entry: _Browser) -> None:
        """Kill a shared browser that will serve no one again, once nothing of it is in use."""
        idle = not entry.sessions and entry.resetting == 0 and entry.opening == 0
        spent = entry.opened >= self.settings.sessions_per_browser and not entry.ready
        if (entry.retired or not entry.healthy or spent) and idle and entry in self._shared:
            self._shared.remove(entry)
            await self._dispose(entry)
            await self._capacity_changed()
            self._refill_needed.set()

    async def release(
        self, session: BrowserSession, reason: str = CloseReason.closed, *, wait: bool = True
    ) -> None:
        """Close the session: kill its process group and delete its profile (context isolation:
        close its context and prove it gone, or retire the browser). Idempotent.

        With ``wait=False`` the session is closed at once and the kill or reset runs in the
        background (``close()`` still waits for it): an API caller need not wait for a process to
        die. ``session.released`` is set once it is done."""
        if session.closed:
            return
        session.closed_reason = reason
        await _run_before_release(session)
        self._sessions.pop(session.id, None)
        entry = self._entries.pop(session.id, None)
        if entry is not None and session.browser_context_id is not None:
            # The context closes after the caller has its answer; its slot stays taken until then.
            entry.sessions.discard(session.id)
            entry.resetting += 1
            reset = self._reset_context(entry, session)
            if wait:
                await reset
            else:
                self._expire_task(reset)
            return
        await self._capacity_changed()
        if entry is None:
            session.released.set()
        elif wait:
            await self._dispose_and_refill(entry, session)
            return
        else:
            self._expire_task(self._dispose_and_refill(entry, session))
            return
        self._refill_needed.set()

    async def _dispose_and_refill(self, entry: _Browser, session: BrowserSession) -> None:
        try:
            await self._dispose(entry)
        finally:
            session.released.set()
        self._refill_needed.set()

    async def _take_warm(self) -> _Browser | None:
        """A healthy warm browser; waits for one the refill loop is launching if no other acquire
        already waits for it (cheaper than a competing launch). None: launch one yourself."""
        async with self._warm_ready:
            while True:
                while self._warm:
                    entry = self._warm.pop(0)
                    if entry.browser.is_connected() and entry.chromium.process.returncode is None:
                        return entry
                    await self._dispose(entry)
                if self._warming <= self._waiting:
                    return None
                self._waiting += 1
                try:
                    await self._warm_ready.wait()
                finally:
                    self._waiting -= 1

    async def _launch_within_cap(self, options: SessionOptions, *, deadline: float) -> _Browser:
        if self._total() >= self.max_browsers and self._warm:
            # A cold launch may replace a warm browser nobody asked for.
            await self._dispose(self._warm.pop())
        if self._total() >= self.max_browsers:
            await self._wait_for_capacity(deadline)
        self._launching += 1
        try:
            return await self._launch(options)
        finally:
            self._launching -= 1

    async def _wait_for_capacity(self, deadline: float) -> None:
        """Wait (until ``deadline``, ``LANTERNA_ACQUIRE_WAIT_S`` after the start) for a browser to go."""
        wait_s = self.settings.acquire_wait_s
        self._capacity_waiters += 1
        try:
            async with self._capacity_freed:
                await asyncio.wait_for(
                    self._capacity_freed.wait_for(lambda: self._total() < self.max_browsers),
                    max(0.0, deadline - time.monotonic()),
                )
        except TimeoutError:
            raise CapacityError(
                f"all {self.max_browsers} browsers are in use and none was released within {wait_s:g} s; "
                "close a session or retry later (LANTERNA_MAX_BROWSERS raises the cap, "
                "LANTERNA_ACQUIRE_WAIT_S the wait)",
                retry_after_s=max(1, round(wait_s / 10)),
            ) from None
        finally:
            self._capacity_waiters -= 1

    async def _capacity_changed(self) -> None:
        async with self._capacity_freed:
            self._capacity_freed.notify_all()

    async def _launch(self, options: SessionOptions, *, warm: bool = False) -> _Browser:
        # Shielded: a caller cancelled mid-launch must not leave a browser nobody owns.
        task = asyncio.create_task(self._launch_unshielded(options, warm=warm))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(self._dispose_when_launched)
            raise

    def _dispose_when_launched(self, task: asyncio.Task[_Browser]) -> None:
        if not task.cancelled() and task.exception() is None:
            self._expire_task(self._dispose(task.result()))

    async def _launch_unshielded(self, options: SessionOptions, *, warm: bool = False) -> _Browser:
        assert self._binary is not None and self._playwright is not None
        problems = chrome_args_problems(options.chrome_args)
        if problems:  # also checked at the API; here no caller can get around it
            raise InvalidRequestError("chrome_args refused: " + "; ".join(problems))
        profile_dir = create_profile_dir(self.profile_root)
        proxy = EgressProxy(self.egress)
        await proxy.start()
        self._proxy_ports.add(proxy.port)
        uid = self.sandbox.allocate_uid()
        window = (options.viewport_width or 1280, options.viewport_height or 720)
        command = chromium_command(
            self._binary,
            profile_dir,
            self.settings,
            extra_args=[*self.extra_args, *(options.chrome_args or [])],
            window=window,
            user_agent=options.user_agent,
            proxy_url=proxy.url,
        )
        try:
            policy = self.sandbox.prepare_profile(profile_dir, uid, proxy.url, self._binary)
            command = self.sandbox.command(command, uid=uid, policy=policy, binary=self._binary)
            if warm and _CAN_RAISE_PRIORITY:
                # Warming competes for the CPU with sessions in use: it yields to them.
                command = ["nice", "-n", str(WARM_NICENESS), *command]
            chromium = await _launch_process(command, profile_dir, env=self.sandbox.environment(profile_dir))
            chromium.uid = uid
        except BaseException:
            remove_profile_dir(profile_dir)
            await self._close_proxy(proxy)
            self.sandbox.release_uid(uid)
            raise
        try:
            write_marker(profile_dir, browser_pid=chromium.pid)
            browser = await self._playwright.chromium.connect_over_cdp(chromium.cdp_url)
            if self._scratch is not None:
                _open_artifacts_to_browsers(self._scratch)
            if browser.contexts and browser.contexts[0].pages:
                # Warm browsers start at the default viewport so most acquires need no round trip.
                width, height = DEFAULT_WINDOW
                await browser.contexts[0].pages[0].set_viewport_size({"width": width, "height": height})
        except BaseException as exc:
            await kill_process_group(chromium.process, grace_s=0)
            remove_profile_dir(profile_dir)
            await self._close_proxy(proxy)
            self.sandbox.release_uid(uid)
            if isinstance(exc, PlaywrightError):
                # Seen when many browsers start at once on few cores: a retry usually succeeds.
                raise CapacityError(
                    f"the browser started but did not answer on CDP in time ({exc.message.splitlines()[0]}); "
                    f"the machine is busy with {self._launching} browser launches — retry, or start "
                    "fewer sessions at once"
                ) from exc
            raise
        self._proxy_ports.discard(proxy.port)
        return _Browser(chromium, browser, proxy, niced=warm and _CAN_RAISE_PRIORITY)

    async def _close_proxy(self, proxy: EgressProxy) -> None:
        self._proxy_ports.discard(proxy.port)
        await proxy.close()

    async def _dispose(self, entry: _Browser) -> None:
        await kill_process_group(entry.chromium.process, grace_s=KILL_GRACE_S)
        discarded = await asyncio.to_thread(discard_profile, entry.chromium.profile_dir)
        await entry.proxy.close()
        self.sandbox.release_uid(entry.chromium.uid)
        # Every process is dead by now; the tree itself is deleted off the caller's path.
        task = asyncio.create_task(asyncio.to_thread(remove_profile_dir, discarded))
        self._deleting.add(task)
        task.add_done_callback(self._deleting.discard)

    def _on_disconnected(self, session: BrowserSession) -> None:
        if session.closed or self._closed:
            return
        self._expire(session, CloseReason.browser_exited)

    # ----- background work -------------------------------------------------------------

    def warm_target(self) -> int:
        """How many to keep ready now (warm browsers, or contexts opened ahead): the most sessions
        started within one second of the demand window, between ``size`` and ``max_size``."""
        return self.demand.target(self.size, self.max_size)

    async def _refill_loop(self) -> None:
        while not self._closed:
            await self._refill_needed.wait()
            self._refill_needed.clear()
            if self.context_isolation:
                await self._refill_contexts()
            else:
                await self._refill_browsers()

    async def _refill_browsers(self) -> None:
        """Launch warm browsers up to the target, one at a time; let go of those past it."""
        target = self.warm_target()
        while len(self._warm) > target:
            await self._dispose(self._warm.pop())
        # One launch at a time: launches compete for CPU with the sessions in use.
        while (
            not self._closed
            and len(self._warm) + self._warming < self.warm_target()
            and self._total() < self.max_browsers
        ):
            self._launching += 1
            self._warming += 1
            entry: _Browser | None = None
            try:
                # Lower priority unless a start already waits for this one.
                entry = await self._launch(SessionOptions(), warm=self._waiting == 0)
            except Exception as exc:
                log.warning("warming a browser failed: %s", exc)
            except BaseException:
                self._launching -= 1
                self._warming -= 1
                raise
            async with self._warm_ready:
                # Counters and the warm list change together: an acquire never sees a gap.
                self._launching -= 1
                self._warming -= 1
                if entry is not None and not self._closed:
                    self._warm.append(entry)
                self._warm_ready.notify_all()  # waiters re-check, also after a failure
            if entry is not None and self._closed:
                await self._dispose(entry)
                return
            if entry is None:
                await asyncio.sleep(LAUNCH_RETRY_S)

    async def _refill_contexts(self) -> None:
        """Open contexts ahead until the target (or every waiting start) is covered, several at
        once; launch a shared browser when none has room (ahead of demand: one at a time, at lower
        priority; for waiting starts: two at a time, at normal priority)."""
        while not self._closed:
            wanted = max(self.warm_target(), self._context_waiters)
            ready = sum(len(e.ready) for e in self._shared)
            opening = sum(e.opening for e in self._shared)
            if ready + opening >= wanted:
                await self._shrink_contexts(ready - wanted)
                return
            if opening >= PARALLEL_CONTEXT_OPENS:
                return  # each open that ends asks for a refill
            entry = self._shared_with_room()
            if entry is not None:
                entry.opening += 1
                entry.opened += 1
                self._expire_task(self._open_ahead(entry))
                continue
            if self._total() >= self.max_browsers:
                return  # a release frees a slot and asks again
            # Ahead of demand, one launch at a time at lower priority; for waiting starts, a few
            # at normal priority (they are sessions in use already).
            waiting = self._context_waiters > 0
            if self._shared_launches >= (PARALLEL_LAUNCHES_FOR_WAITERS if waiting else 1):
                return  # a launch that ends asks again
            self._shared_launches += 1
            self._launching += 1
            self._expire_task(self._launch_shared(ahead=not waiting))

    async def _launch_shared(self, *, ahead: bool) -> None:
        """Launch one browser for context isolation; its contexts are opened by the next refill."""
        launched: _Browser | None = None
        try:
            launched = await self._launch(SessionOptions(), warm=ahead)
        except Exception as exc:
            log.warning("launching a shared browser failed: %s", exc)
            await asyncio.sleep(LAUNCH_RETRY_S)  # still counted as launching: no retry storm
        finally:
            self._launching -= 1
            self._shared_launches -= 1
            if launched is not None and not self._closed:
                # With no await since the count went down: the cap holds.
                self._shared.append(launched)
                launched.browser.on("disconnected", self._disconnect_handler(launched))
            self._refill_needed.set()
        if launched is not None and self._closed:
            await self._dispose(launched)

    async def _shrink_contexts(self, excess: int) -> None:
        """Demand fell: close contexts opened ahead past the target, and browsers left with none."""
        for entry in list(self._shared):
            while excess > 0 and entry.ready:
                ready = entry.ready.pop()
                excess -= 1
                entry.resetting += 1
                try:
                    await asyncio.wait_for(ready.context.close(), CONTEXT_CLOSE_TIMEOUT_S)
                except Exception as exc:
                    self._retire(entry, f"closing a context failed ({exc})")
                finally:
                    entry.resetting -= 1
            if entry.slots_taken == 0 and entry in self._shared:
                self._shared.remove(entry)
                await self._dispose(entry)
                await self._capacity_changed()

    async def _reap_loop(self) -> None:
        while True:
            await asyncio.sleep(REAP_INTERVAL_S)
            target = self.warm_target()
            if target != self._last_target:  # demand changed: grow or shrink
                self._last_target = target
                self._refill_needed.set()
            now = utc_now()
            for session in list(self._sessions.values()):
                reason = _expiry_reason(session, now)
                if reason:
                    self._expire(session, reason)

    def _expire(self, session: BrowserSession, reason: str) -> None:
        self._expire_task(self._release_and_notify(session, reason))

    def _expire_task(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._expiring.add(task)
        task.add_done_callback(self._expiring.discard)

    async def _release_and_notify(self, session: BrowserSession, reason: str) -> None:
        if session.closed:
            return
        await self.release(session, reason)
        if self.on_expire is not None:
            try:
                await self.on_expire(session, reason)
            except Exception:
                log.exception("on_expire failed for session %s", session.id)


async def _run_before_release(session: BrowserSession) -> None:
    for hook in session.before_release:
        try:
            await asyncio.wait_for(hook(session), BEFORE_RELEASE_TIMEOUT_S)
        except Exception:
            log.exception("a before-release hook failed for session %s", session.id)


async def _start_playwright(profile_root: Path, *, shared: bool) -> tuple[Playwright, Path | None]:
    """Start Playwright. With per-browser users, its downloads folder (where each browser writes
    its downloads, named by random ids) is made writable by them but not listable (``1733``)."""
    if not shared:
        return await async_playwright().start(), None
    profile_root.mkdir(parents=True, exist_ok=True)
    # One per pool: the name carries the owner's pid so the orphan sweep can tell it is left over.
    scratch = Path(tempfile.mkdtemp(prefix=f"{PLAYWRIGHT_PREFIX}{os.getpid()}-", dir=profile_root))
    scratch.chmod(0o711)
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(scratch)  # the driver makes its artifacts folder under its TMPDIR
    try:
        playwright = await async_playwright().start()
    finally:
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved
    return playwright, scratch


def _open_artifacts_to_browsers(scratch: Path) -> None:
    """Each CDP connection gets a new Playwright artifacts folder, where its browser writes
    downloads: let every browser user write (not list) there."""
    for artifacts in scratch.glob("playwright-artifacts-*"):
        if artifacts.stat().st_mode & 0o7777 != 0o1733:
            artifacts.chmod(0o1733)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _expiry_reason(session: BrowserSession, now: datetime) -> CloseReason | None:
    options = session.options
    if options.max_duration_s and (now - session.created_at).total_seconds() >= options.max_duration_s:
        return CloseReason.max_duration
    if options.idle_timeout_s and (now - session.last_active_at).total_seconds() >= options.idle_timeout_s:
        return CloseReason.idle_timeout
    return None
