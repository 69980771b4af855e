"""Sessions through the official notte-sdk 1.8.6, unchanged, against a lanterna server."""

from __future__ import annotations

from typing import Any

from lanterna import Client
from lanterna.demo.site import CONTACT_EMAIL
from tests.fixtures.sdk import NotteRunner


def test_notte_session_execute_and_scrape(notte: NotteRunner, demo_site: Any) -> None:
    out = notte.run(
        f"""
        from notte_sdk import NotteClient

        client = NotteClient()
        out = {{}}
        with client.Session() as session:
            out["session_id"] = session.session_id
            session.execute(type="goto", url={demo_site.page("products/classic-lantern.html")!r})
            click = session.execute(type="click", selector="#add-to-cart")
            out["click"] = [click.success, click.action.type]
            out["cart"] = session.scrape(selector="#cart-count", only_main_content=False).strip()
            session.execute(type="goto", url={demo_site.page("contact.html")!r})
            out["markdown"] = session.scrape()

            failed = session.execute(type="click", selector="#missing", timeout=500, raise_on_failure=False)
            out["failed"] = [failed.success, failed.message]
            try:
                session.execute(type="click", selector="#missing", timeout=500)
                out["raised"] = None
            except Exception as e:
                out["raised"] = type(e).__name__
            out["offset"] = session.offset()
            out["status"] = session.status().status
        emit(out)
        """
    )
    assert out["click"] == [True, "click"]
    assert out["cart"] == "1"
    assert CONTACT_EMAIL in out["markdown"]
    assert out["failed"][0] is False and out["failed"][1]
    assert out["raised"] is not None, "a failed action must raise with notte's default raise_on_failure"
    assert out["offset"] >= 4
    assert out["status"] == "active"

    with Client(api_key=notte.api_key, server_url=notte.server_url) as ours:
        assert ours.sessions.get(out["session_id"]).status == "closed"


def test_notte_observe_then_execute_by_element_id(notte: NotteRunner, demo_site: Any) -> None:
    out = notte.run(
        f"""
        from notte_sdk import NotteClient

        client = NotteClient()
        out = {{}}
        with client.Session() as session:
            session.execute(type="goto", url={demo_site.page("index.html")!r})
            obs = session.observe()
            out["url"] = obs.metadata.url
            actions = obs.space.interaction_actions
            out["actions"] = [(a.type, a.id) for a in actions]
            contact = next(a.id for a in actions if "Contact" in f"{{a.description}} {{a.text_label}}")
            clicked = session.execute(type="click", id=contact)
            out["clicked"] = clicked.success
            out["after"] = session.observe().metadata.url
        emit(out)
        """
    )
    assert out["url"].endswith("/index.html")
    assert any(kind == "click" and id_.startswith("L") for kind, id_ in out["actions"])
    assert any(kind == "fill" and id_.startswith("I") for kind, id_ in out["actions"]), "the search box"
    assert out["clicked"] is True
    assert out["after"].endswith("/contact.html")
