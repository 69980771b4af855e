"""Context isolation: a warm browser serves session after session, and nothing of one reaches the next."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from lanterna.browser import BrowserPool
from lanterna.config import Settings
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


async def _released_and_reset(pool: BrowserPool, session_id: str) -> None:
    for _ in range(200):
        if not any(e.resetting for e in pool._shared):
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"the context of {session_id} was not reset within 5 s")


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
    assert first.closed and context_pool._shared[0].resetting == 1
    await _released_and_reset(context_pool, first.id)

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
    entry = context_pool._entries[a.id]
    assert entry.retired
    b = await context_pool.acquire()
    try:
        assert b.pid != a.pid, "a retired browser takes no new session"
    finally:
        await context_pool.release(a)
        await context_pool.release(b)
    assert entry not in context_pool._shared and entry.chromium.process.returncode is not None


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
