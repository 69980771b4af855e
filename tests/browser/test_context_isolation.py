"""Context isolation: a warm browser serves session after session, and nothing of one reaches the next."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from lanterna.browser import BrowserPool, BrowserSession
from lanterna.config import Settings
from lanterna.errors import CapacityError
from tests.fixtures.engine import OFFLINE_ARGS, StaticSite, browser_profile_root


def context_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "action_timeout_ms": 3000,
        "navigation_timeout_ms": 10000,
        "isolation": "context",
        "contexts_per_browser": 2,
        **overrides,
    }
    return Settings.model_validate(values)


@pytest.fixture
async def context_pool() -> AsyncIterator[BrowserPool]:
    pool = BrowserPool(
        context_settings(), size=1, profile_root=browser_profile_root(), extra_args=OFFLINE_ARGS
    )
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


async def test_the_next_session_on_a_reused_browser_finds_nothing(
    context_pool: BrowserPool, static_site: StaticSite
) -> None:
    url = static_site.page("leftovers.html")
    first = await context_pool.acquire()
    await first.context.grant_permissions(["geolocation"], origin=url.rsplit("/", 1)[0])
    await first.page.goto(url)
    await first.page.goto(url + "?again")
    assert await first.page.evaluate("writeLeftovers()") is True
    written = await first.page.evaluate("checkLeftovers()")
    assert written["local"] == "one" and written["workers"] == 1 and written["geolocation"] == "granted"
    await first.context.new_page()  # an extra tab
    pid = first.pid
    await context_pool.release(first, wait=False)  # returns before the reset
    assert first.closed and not first.released.is_set()
    await asyncio.wait_for(first.released.wait(), 10)

    second = await context_pool.acquire()
    try:
        assert second.pid == pid, "the same browser process serves the next session"
        assert second.browser_context_id != first.browser_context_id
        assert len(second.tabs) == 1
        await second.page.goto(url)
        found = await second.page.evaluate("checkLeftovers()")
        assert found == {
            "cookie": "",
            "local": None,
            "session": None,
            "indexeddb": False,
            "caches": [],
            "workers": 0,
            "geolocation": "prompt",
            "history": 2,  # about:blank and this page: none of the first session's
        }
        assert await second.context.cookies() == []
    finally:
        await context_pool.release(second)


async def test_concurrent_sessions_share_a_browser_but_not_state(
    context_pool: BrowserPool, static_site: StaticSite
) -> None:
    url = static_site.page("leftovers.html")
    a = await context_pool.acquire()
    b = await context_pool.acquire()
    try:
        assert a.pid == b.pid and a.browser_context_id != b.browser_context_id
        await a.page.goto(url)
        await b.page.goto(url)
        # B listens on a BroadcastChannel and keeps local storage; A writes both.
        await b.page.evaluate(
            "() => { window.heard = [];"
            " new BroadcastChannel('t').onmessage = (e) => window.heard.push(e.data); }"
        )
        await a.page.evaluate(
            "new BroadcastChannel('t').postMessage('from a'); localStorage.setItem('x', 'a')"
        )
        await a.page.evaluate("new BroadcastChannel('t').postMessage('again')")
        await b.page.evaluate("() => new Promise((r) => setTimeout(r, 200))")
        assert await b.page.evaluate("window.heard") == []
        assert await b.page.evaluate("localStorage.getItem('x')") is None
        assert [p.url for p in b.tabs] == [url]
    finally:
        await context_pool.release(a)
        await context_pool.release(b)


async def test_a_browser_whose_renderer_crashed_is_retired(
    context_pool: BrowserPool, static_site: StaticSite
) -> None:
    a = await context_pool.acquire()
    await a.page.goto(static_site.page("form.html"))
    crashed = asyncio.Event()
    a.page.on("crash", lambda _: crashed.set())
    cdp = await a.context.new_cdp_session(a.page)
    crash = asyncio.ensure_future(cdp.send("Page.crash"))  # the tab dies before it can answer
    await asyncio.wait_for(crashed.wait(), 10)
    crash.cancel()
    b = await context_pool.acquire()
    try:
        assert b.pid != a.pid, "a retired browser takes no new session"
    finally:
        await context_pool.release(a)
        await context_pool.release(b)
    assert a.chromium.process.returncode is not None, "the retired browser is gone once its sessions are"


async def test_a_browser_is_recycled_after_its_session_budget(static_site: StaticSite) -> None:
    pool = BrowserPool(
        context_settings(sessions_per_browser=2),
        size=1,
        profile_root=browser_profile_root(),
        extra_args=OFFLINE_ARGS,
    )
    await pool.start()
    try:
        one = await pool.acquire()
        await pool.release(one)
        two = await pool.acquire()
        assert two.pid == one.pid
        await pool.release(two)
        three = await pool.acquire()
        assert three.pid != one.pid
        await pool.release(three)
    finally:
        await pool.close()


async def _context_ids(session: BrowserSession) -> list[str]:
    """The contexts the session's browser process has, as Chromium itself lists them."""
    cdp = await session.browser.new_browser_cdp_session()
    try:
        ids: list[str] = (await cdp.send("Target.getBrowserContexts"))["browserContextIds"]
        return ids
    finally:
        await cdp.detach()


async def test_a_session_takes_a_context_opened_ahead(context_pool: BrowserPool) -> None:
    await context_pool.wait_until_ready(1, 60)
    opened_before = context_pool.ready_context_ids
    session = await context_pool.acquire()
    try:
        # The acquire opened nothing: its context and tab were there before it asked.
        assert session.browser_context_id in opened_before
        contexts = await _context_ids(session)
        assert session.browser_context_id in contexts
        assert [p.url for p in session.tabs] == ["about:blank"]
        await context_pool.wait_until_ready(1, 60)  # the next one is opened ahead in the background
        assert session.browser_context_id not in context_pool.ready_context_ids
    finally:
        await context_pool.release(session)


async def test_the_pool_keeps_more_contexts_ready_after_a_burst() -> None:
    pool = BrowserPool(
        context_settings(contexts_per_browser=4),
        size=1,
        max_size=3,
        profile_root=browser_profile_root(),
        extra_args=OFFLINE_ARGS,
    )
    await pool.start()
    try:
        burst = await asyncio.gather(*(pool.acquire() for _ in range(3)))  # three asked at once
        assert pool.warm_target() == 3
        for session in burst:
            await pool.release(session, wait=False)
        await pool.wait_until_ready(3, 120)
    finally:
        await pool.close()


async def test_a_start_that_finds_every_browser_busy_waits_for_a_freed_context() -> None:
    pool = BrowserPool(
        context_settings(contexts_per_browser=1, acquire_wait_s=60),
        size=0,
        max_browsers=1,
        profile_root=browser_profile_root(),
        extra_args=OFFLINE_ARGS,
    )
    await pool.start()
    try:
        first = await pool.acquire()
        waiting = asyncio.create_task(pool.acquire())
        for _ in range(500):  # bounded: until the start is waiting (each turn yields to it)
            if pool.waiting_count == 1:
                break
            await asyncio.sleep(0.01)
        assert pool.waiting_count == 1 and not waiting.done()
        await pool.release(first, wait=False)
        second = await asyncio.wait_for(waiting, 60)
        assert second.pid == first.pid and second.browser_context_id != first.browser_context_id
        await pool.release(second)
    finally:
        await pool.close()


async def test_a_start_past_the_wait_is_refused_with_a_retry_hint() -> None:
    pool = BrowserPool(
        context_settings(contexts_per_browser=1, acquire_wait_s=0.3),
        size=1,
        max_browsers=1,
        profile_root=browser_profile_root(),
        extra_args=OFFLINE_ARGS,
    )
    await pool.start()
    try:
        await pool.wait_until_ready(1, 60)  # the wait covers launching too: not measured here
        first = await pool.acquire()
        with pytest.raises(
            CapacityError, match=r"all 1 browsers serve 1 sessions each .* within 0\.3 s"
        ) as refused:
            await pool.acquire()
        assert refused.value.retry_after_s >= 1
        await pool.release(first)
    finally:
        await pool.close()
