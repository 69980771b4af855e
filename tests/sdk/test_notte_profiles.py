"""Persistent profiles through the official notte-sdk 1.8.6, unchanged, against a lanterna server."""

from __future__ import annotations

from tests.fixtures.sdk import NotteRunner
from tests.server.test_profiles_api import login_site

__all__ = ["login_site"]  # the loopback site that logs a browser in


def test_notte_profile_keeps_a_login_between_sessions(notte: NotteRunner, login_site: str) -> None:
    out = notte.run(
        f"""
        from notte_sdk import NotteClient

        client = NotteClient()
        out = {{}}
        profile = client.profiles.create(name="notte-login")
        out["id"] = profile.profile_id
        with client.Session(profile={{"id": profile.profile_id, "persist": True}}) as session:
            session.execute(type="goto", url={login_site + "/login"!r})
        out["domains"] = client.profiles.get(profile.profile_id).persisted_domains
        with client.Session(profile={{"id": profile.profile_id}}) as session:
            session.execute(type="goto", url={login_site + "/whoami"!r})
            out["with"] = session.scrape(only_main_content=False)
        with client.Session() as session:
            session.execute(type="goto", url={login_site + "/whoami"!r})
            out["without"] = session.scrape(only_main_content=False)
        out["listed"] = [p.profile_id for p in client.profiles.list(name="notte-login")]
        out["deleted"] = client.profiles.delete(profile.profile_id)
        try:
            client.profiles.get(profile.profile_id)
            out["after"] = "found"
        except Exception as e:
            out["after"] = type(e).__name__
        emit(out)
        """
    )
    assert out["id"].startswith("notte-profile-")
    assert out["domains"] == ["127.0.0.1"]
    assert "login=cookie-secret-7" in out["with"] and "ls=[ls-secret-42]" in out["with"], out["with"]
    assert "cookie-secret-7" not in out["without"] and "ls=[]" in out["without"]
    assert out["listed"] == [out["id"]]
    assert out["deleted"] is True
    assert out["after"] != "found"
