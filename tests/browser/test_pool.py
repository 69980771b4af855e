"""BrowserPool: warm acquire, isolation, release, caps, expiry, crash, and leaving nothing behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import psutil
import pytest

from lanterna.browser import BrowserPool, BrowserSession, SessionOptions, find_chromium
from lanterna.browser.demand import Demand
from lanterna.browser.profile import MARKER, create_profile_dir
from lanterna.config import Settings
from lanterna.errors import CapacityError, ChromiumNotFoundError, ConflictError
from tests.fixtures.engine import OFFLINE_ARGS, StaticSite, browser_profile_root, engine_settings


def processes_using(root: Path) -> list[psutil.Process]:
    """Live (non-zombie) processes whose command line mentions a path under ``root``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if str(root) in " ".join(proc.info["cmdline"] or []):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


async def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


@pytest.fixture
def expired() -> list[tuple[BrowserSession, str]]:
    """What ``own_pool`` reported through ``on_expire``."""
    return []


@pytest.fixture
async def own_pool(tmp_path: Path, expired: list[tuple[BrowserSession, str]]) -> AsyncIterator[BrowserPool]:
    """A one-browser pool with its own profile root, so its processes can be counted exactly."""

    async def on_expire(session: BrowserSession, reason: str) -> None:
        expired.append((session, reason))

    pool = BrowserPool(
        engine_settings(),
        size=1,
        on_expire=on_expire,
        profile_root=browser_profile_root(),
        extra_args=OFFLINE_ARGS,
    )
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


async def test_acquire_gives_a_working_isolated_browser(pool: BrowserPool, static_site: StaticSite) -> None:
    a = await pool.acquire()
    b = await pool.acquire(session_id="my-session")
    try:
        assert b.id == "my-session" and a.id != b.id and a.pid != b.pid
        assert a.cdp_url.startswith("ws://127.0.0.1:") and "/devtools/browser/" in a.cdp_url
        await a.page.goto(static_site.page("form.html"))
        await a.page.fill("#name", "only in a")
        await a.context.add_cookies([{"name": "k", "value": "v", "url": static_site.url}])
        assert await b.context.cookies() == []
        assert b.page.url == "about:blank"
        assert await a.page.evaluate("[innerWidth, innerHeight]") == [1280, 720]
        assert pool.live_count >= 2
        with pytest.raises(ConflictError, match="already exists"):
            await pool.acquire(session_id="my-session")
    finally:
        await pool.release(a)
        await pool.release(b)


async def test_release_kills_the_process_group_and_deletes_the_profile(pool: BrowserPool) -> None:
    session = await pool.acquire()
    profile = session.chromium.profile_dir
    members = [p.pid for p in psutil.process_iter(["pid"]) if _pgid(p.pid) == session.pid]
    assert len(members) > 1 and profile.is_dir() and (profile / MARKER).is_file()
    await pool.release(session, "done here")
    await pool.release(session, "again")  # idempotent
    assert session.closed and session.closed_reason == "done here"
    assert not profile.exists()
    assert all(not _alive(pid) for pid in members)
    assert processes_using(profile) == []


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_twenty_cycles_leave_no_process_and_no_profile(own_pool: BrowserPool, tmp_path: Path) -> None:
    root = own_pool.profile_root
    for _ in range(20):
        session = await own_pool.acquire()
        await session.page.goto("about:blank")
        await own_pool.release(session)
    assert own_pool.live_count == 0
    await own_pool.close()
    assert list(root.iterdir()) == []
    assert processes_using(root) == []


async def test_session_options(pool: BrowserPool) -> None:
    sized = await pool.acquire(SessionOptions(viewport_width=800, viewport_height=600))
    agent = await pool.acquire(SessionOptions(user_agent="lanterna-test/1.0", chrome_args=["--lang=fr-FR"]))
    try:
        assert await sized.page.evaluate("[innerWidth, innerHeight]") == [800, 600]
        popup = await sized.context.new_page()
        await asyncio.sleep(0.2)
        assert await popup.evaluate("[innerWidth, innerHeight]") == [800, 600]  # new tabs too
        assert await agent.page.evaluate("navigator.userAgent") == "lanterna-test/1.0"
        assert "--lang=fr-FR" in psutil.Process(agent.pid).cmdline()
    finally:
        await pool.release(sized)
        await pool.release(agent)


async def test_capacity_limit(tmp_path: Path) -> None:
    settings = engine_settings().model_copy(update={"acquire_wait_s": 0.3})
    pool = BrowserPool(settings, size=0, max_browsers=1, profile_root=browser_profile_root())
    await pool.start()
    try:
        first = await pool.acquire()
        with pytest.raises(
            CapacityError, match=r"all 1 browsers are in use and none was released within 0\.3 s"
        ):
            await pool.acquire()
        await pool.release(first)
        second = await pool.acquire()
        await pool.release(second)
    finally:
        await pool.close()


async def test_a_start_at_capacity_waits_for_a_release(tmp_path: Path) -> None:
    settings = engine_settings().model_copy(update={"acquire_wait_s": 60})
    pool = BrowserPool(settings, size=0, max_browsers=1, profile_root=browser_profile_root())
    await pool.start()
    try:
        first = await pool.acquire()
        waiting = asyncio.create_task(pool.acquire())
        assert await wait_until(lambda: pool.waiting_count == 1)  # it waits, it does not fail
        assert not waiting.done()
        await pool.release(first, wait=False)
        second = await asyncio.wait_for(waiting, 30)
        assert second.page is not None and second.pid != first.pid
        await pool.release(second)
    finally:
        await pool.close()


async def test_idle_timeout_and_max_duration_close_the_session(
    own_pool: BrowserPool, expired: list[tuple[BrowserSession, str]]
) -> None:
    idle = await own_pool.acquire(SessionOptions(idle_timeout_s=0.6))
    capped = await own_pool.acquire(SessionOptions(max_duration_s=1.2))
    for _ in range(8):  # activity keeps the capped session from going idle, not from its cap
        capped.touch()
        await asyncio.sleep(0.1)
    assert await wait_until(lambda: idle.closed and capped.closed)
    assert idle.closed_reason == "idle timeout"
    assert capped.closed_reason == "max duration reached"
    assert await wait_until(lambda: len(expired) == 2)
    assert {r for _, r in expired} == {"idle timeout", "max duration reached"}
    assert not idle.chromium.profile_dir.exists()


async def test_a_crashed_browser_closes_its_session(
    own_pool: BrowserPool, expired: list[tuple[BrowserSession, str]]
) -> None:
    session = await own_pool.acquire()
    os.killpg(session.pid, signal.SIGKILL)
    assert await wait_until(lambda: session.closed)
    assert session.closed_reason == "the browser exited unexpectedly"
    assert await wait_until(lambda: len(expired) == 1)
    assert expired[0] == (session, "the browser exited unexpectedly")


async def test_start_sweeps_orphans_of_dead_owners(tmp_path: Path) -> None:
    root = browser_profile_root()
    orphan = create_profile_dir(root)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (orphan / MARKER).write_text(json.dumps({"owner_pid": dead.pid, "owner_started": 0, "browser_pid": None}))
    # A stand-in for a browser left running by the crashed owner.
    straggler = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", f"--user-data-dir={orphan}"],
        start_new_session=True,
    )
    mine = create_profile_dir(root)  # owned by this live process: must survive
    pool = BrowserPool(engine_settings(), size=0, profile_root=root)
    try:
        await pool.start()
        assert straggler.wait(timeout=5) == -signal.SIGKILL
        assert not orphan.exists()
        assert mine.is_dir()
    finally:
        await pool.close()
        if straggler.poll() is None:
            straggler.kill()


async def test_acquire_on_a_pool_that_is_not_started_fails(tmp_path: Path) -> None:
    pool = BrowserPool(engine_settings(), profile_root=tmp_path)
    with pytest.raises(ConflictError, match="not running"):
        await pool.acquire()


def test_find_chromium_prefers_the_configured_binary(tmp_path: Path) -> None:
    system = find_chromium(Settings(chromium=None))
    assert os.access(system, os.X_OK)
    assert find_chromium(Settings(chromium=system)) == system
    with pytest.raises(ChromiumNotFoundError, match="LANTERNA_CHROMIUM"):
        find_chromium(Settings(chromium=str(tmp_path / "no-chromium")))


def test_demand_is_the_busiest_second_of_the_window() -> None:
    demand = Demand(window_s=30)
    for at in (0.0, 0.1, 0.2, 0.5, 5.0):
        demand.record(at)
    assert demand.peak_per_second(now=5.0) == 4
    assert demand.target(1, 3, now=5.0) == 3  # at most the maximum
    assert demand.target(1, 8, now=31.0) == 1  # the burst left the window
    assert demand.target(2, 8, now=40.0) == 2  # never below the minimum


async def test_release_returns_before_the_browser_is_killed(pool: BrowserPool) -> None:
    session = await pool.acquire()
    await pool.release(session, wait=False)
    assert session.closed and not session.released.is_set()
    await asyncio.wait_for(session.released.wait(), 30)
    assert processes_using(session.chromium.profile_dir) == []
