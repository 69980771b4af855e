"""Sessions through lanterna's SDK against a real server, real Chromium and the demo shop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lanterna import ActionFailedError, Client
from lanterna.demo.site import CONTACT_EMAIL
from lanterna.errors import AuthenticationError, ConflictError, InvalidRequestError, NotFoundError
from lanterna.models.actions import Click, Goto

FAST_FAIL_MS = 500  # a missing element fails after this, not after the default 5 s


def test_observe_execute_scrape_blocking(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        goto = session.execute(type="goto", url=demo_site.page("index.html"))
        assert goto.success, goto.message

        obs = session.observe()
        assert obs.metadata.url.endswith("/index.html")
        contact = next(e for e in obs.elements if e.role == "link" and "Contact" in e.name)

        clicked = session.execute(Click(id=contact.id))  # an action model, addressed by element id
        assert clicked.success, clicked.message
        assert session.observe().metadata.url.endswith("/contact.html")

        markdown = session.scrape()
        assert CONTACT_EMAIL in markdown
        data = session.scrape_data(only_main_content=True)
        assert CONTACT_EMAIL in data.markdown
        session_id = session.session_id

    assert client.sessions.get(session_id).status == "closed"


def test_selector_click_changes_the_page(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        session.execute({"type": "goto", "url": demo_site.page("products/classic-lantern.html")})
        before = session.offset()
        result = session.execute(type="click", selector="#add-to-cart")
        assert result.success, result.message
        assert result.action.type == "click"
        assert session.scrape(selector="#cart-count", only_main_content=False).strip() == "1"
        assert session.offset() > before


def test_async_context_and_methods(client: Client, demo_site: Any) -> None:
    async def main() -> tuple[str, str, str]:
        async with client.Session() as session:
            await session.aexecute(Goto(url=demo_site.page("contact.html")))
            obs = await session.aobserve(screenshot=True)
            markdown = await session.ascrape()
            info = await session.astatus()
            return obs.screenshot, markdown, info.status

    screenshot, markdown, status = asyncio.run(main())
    assert screenshot, "observe(screenshot=True) returned no screenshot"
    assert CONTACT_EMAIL in markdown
    assert status == "active"


def test_blocking_session_inside_async_code_and_across_event_loops(client: Client, demo_site: Any) -> None:
    # The seed's pattern: `with client.Session()` and blocking calls inside `async def`,
    # then the same object used again from a second asyncio.run().
    async def first() -> Any:
        session = client.Session()
        session.start()
        session.execute(type="goto", url=demo_site.page("contact.html"))
        return session

    session = asyncio.run(first())
    try:
        assert CONTACT_EMAIL in asyncio.run(session.ascrape())
    finally:
        session.stop()
    assert session.status().status == "closed"


def test_block_error_still_stops_the_session(client: Client) -> None:
    with pytest.raises(RuntimeError, match="boom"), client.Session() as session:
        session_id = session.session_id
        raise RuntimeError("boom")
    assert client.sessions.get(session_id).status == "closed"


def test_failed_action_raises_by_default_and_returns_when_asked(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        session.execute(type="goto", url=demo_site.page("index.html"))
        with pytest.raises(ActionFailedError) as raised:
            session.execute(type="click", selector="#does-not-exist", timeout=FAST_FAIL_MS)
        assert raised.value.result.success is False
        assert "#does-not-exist" in str(raised.value)

        result = session.execute(
            type="click", selector="#does-not-exist", timeout=FAST_FAIL_MS, raise_on_failure=False
        )
        assert result.success is False and result.message


def test_session_level_raise_on_failure(client: Client, demo_site: Any) -> None:
    with client.Session(raise_on_failure=False) as session:
        session.execute(type="goto", url=demo_site.page("index.html"))
        result = session.execute(type="click", selector="#nope", timeout=FAST_FAIL_MS)
        assert not result.success


def test_attach_by_id_cdp_url_and_offset(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        session.execute(type="goto", url=demo_site.page("about.html"))
        attached = client.Session(session.session_id)
        assert attached.status().session_id == session.session_id
        assert attached.observe().metadata.url.endswith("/about.html")
        assert attached.offset() == session.offset() >= 1
        cdp = session.cdp_url()
        assert cdp.startswith("ws://") and session.session_id in cdp


def test_invalid_input_fails_before_any_request(client: Client) -> None:
    with pytest.raises(InvalidRequestError, match="not_an_option"):
        client.Session(not_an_option=True)
    session = client.Session()
    with pytest.raises(InvalidRequestError, match="type"):
        session.execute(selector="#x")  # no action type
    with pytest.raises(InvalidRequestError, match="click"):
        session.execute(type="click")  # neither id nor selector
    with pytest.raises(ConflictError, match="not started"):
        session.observe()


def test_server_errors_are_typed_and_carry_the_servers_message(client: Client, lanterna_server: Any) -> None:
    with client.Session() as session:
        session_id = session.session_id
        other = Client(api_key=lanterna_server.new_key(), server_url=lanterna_server.url)
        try:
            with pytest.raises(NotFoundError):
                other.Session(session_id).status()
        finally:
            other.close()
    with pytest.raises(ConflictError) as closed:
        client.Session(session_id).observe()
    assert closed.value.message and "closed" in closed.value.message.lower()

    bad = Client(api_key="not-a-key", server_url=lanterna_server.url)
    try:
        with pytest.raises(AuthenticationError):
            bad.sessions.list()
    finally:
        bad.close()


def test_unsupported_option_is_refused_by_the_server_with_its_name(client: Client) -> None:
    with pytest.raises(InvalidRequestError, match="solve_captchas"):
        client.Session(solve_captchas=True).start()


def test_listing_shows_only_this_keys_active_sessions(fresh_client: Client) -> None:
    with fresh_client.Session() as session:
        listed = [s.session_id for s in fresh_client.sessions.list()]
        assert listed == [session.session_id]
    assert fresh_client.sessions.list() == []
