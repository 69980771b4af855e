"""The action types of notte's vocabulary lanterna added, through the official client: the fills
work; captcha_solve, help, email_read and sms_read fail with a message saying lanterna lacks them."""

from __future__ import annotations

from typing import Any

from tests.fixtures.sdk import NotteRunner


def test_notte_form_fill_fallback_fill_and_multi_factor_fill(notte: NotteRunner, static_site: Any) -> None:
    out = notte.run(
        f"""
        from notte_sdk import NotteClient

        out = {{}}
        with NotteClient().Session() as session:
            session.execute(type="goto", url={static_site.page("login.html")!r})
            form = session.execute(type="form_fill", value={{"email": "a@example.org", "city": "Lyon",
                                                             "username": "alice"}})
            out["form"] = [form.success, form.message]
            fb = session.execute(type="fallback_fill", selector="#masked", value="typed-in")
            out["fallback"] = fb.success
            mfa = session.execute(type="multi_factor_fill", selector="#otp", value="123456")
            out["mfa"] = mfa.success
            values = session.execute(type="evaluate_js", code=(
                "[...document.querySelectorAll('input')].map(e => [e.id, e.value, e.dataset.keys || ''])"))
            out["values"] = values.data.model_dump()["structured"] if values.data else None
            out["raw"] = session.execute(type="evaluate_js", code=(
                "JSON.stringify([...document.querySelectorAll('input')].map(e => [e.id, e.value, "
                "(e.dataset.keys || '').length]))")).data.model_dump()
        emit(out)
        """
    )
    assert out["form"][0] is True, out["form"]
    raw = str(out["raw"])
    for expected in (
        '["mail","a@example.org",0]',
        '["city","Lyon",0]',
        '["user","alice",0]',
        '["otp","123456",0]',
    ):
        assert expected in raw.replace(" ", "").replace("\\\\", ""), raw
    assert '"masked","typed-in",8' in raw.replace(" ", ""), "fallback_fill sends one key event per character"


def test_notte_unsupported_actions_fail_with_a_clear_message(notte: NotteRunner, static_site: Any) -> None:
    out = notte.run(
        f"""
        from notte_sdk import NotteClient

        out = {{}}
        with NotteClient().Session() as session:
            session.execute(type="goto", url={static_site.page("login.html")!r})
            for action in [dict(type="captcha_solve", captcha_type="recaptcha"),
                           dict(type="help", reason="stuck"),
                           dict(type="email_read", limit=5), dict(type="sms_read", only_unread=True)]:
                result = session.execute(**action, raise_on_failure=False)
                out[action["type"]] = [result.success, result.message]
        emit(out)
        """
    )
    assert (
        out["captcha_solve"] == [False, out["captcha_solve"][1]]
        and "does not solve captchas" in out["captcha_solve"][1]
    )
    assert "no human" in out["help"][1] and out["help"][0] is False
    assert "no personas" in out["email_read"][1] and "no personas" in out["sms_read"][1]
