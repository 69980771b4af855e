"""A session shared by the engine tests of one module, reset to a single blank tab per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lanterna.browser import BrowserPool, BrowserSession
from tests.fixtures.engine import latest_of


@pytest.fixture(scope="module")
async def shared_session(pool: BrowserPool) -> AsyncIterator[BrowserSession]:
    session = await pool.acquire()
    try:
        yield session
    finally:
        await pool.release(session)


@pytest.fixture
async def tab(shared_session: BrowserSession) -> BrowserSession:
    """The module's session with one blank tab and no observation (cheaper than a new browser)."""
    session = shared_session
    for page in session.tabs[1:]:
        await page.close()
    session.activate(session.tabs[0])
    await session.page.goto("about:blank")
    latest_of(session).forget()
    return session
