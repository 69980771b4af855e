"""Sessions through the official notte-sdk 1.8.6, unchanged, against a lanterna server."""

from __future__ import annotations

from typing import Any

from lanterna import Client
from lanterna.demo.site import CONTACT_EMAIL
from tests.fixtures.sdk import NotteRunner


def test_notte_session_execute_observe_scrape(notte: NotteRunner, demo_site: Any) -> None:
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

            obs = session.observe()
            out["url"] = obs.metadata.url
            out["actions"] = [(a.type, a.id) for a in obs.space.interaction_actions]
            actions = obs.space.interaction_actions
            contact = next(a.id for a in actions if "Contact" in f"{{a.description}} {{a.text_label}}")
            session.execute(type="click", id=contact)
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
    assert out["url"].endswith("/products/classic-lantern.html")
    assert ["click", "B1"] in out["actions"], "the add-to-cart button is addressable by a short id"
    assert any(kind == "click" and id_.startswith("L") for kind, id_ in out["actions"])
    assert CONTACT_EMAIL in out["markdown"]
    assert out["failed"][0] is False and out["failed"][1]
    assert out["raised"] is not None, "a failed action must raise with notte's default raise_on_failure"
    assert out["offset"] >= 4
    assert out["status"] == "active"

    with Client(api_key=notte.api_key, server_url=notte.server_url) as ours:
        assert ours.sessions.get(out["session_id"]).status == "closed"
