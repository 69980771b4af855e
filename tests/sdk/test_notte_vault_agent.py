"""An agent with a vault logs in on a local page through the official client, and no secret
shows up in its steps, its answer, the database file or the server log."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import pyotp

from tests.fixtures.sdk import NotteRunner

USERNAME = "vault-user-7731"
PASSWORD = "Vault-Pa55word-9QX"  # must never leak
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"


def _login_page(static_site: Any, at: float) -> str:
    """The local login page, told the password's hash and the TOTP codes valid from ``at`` on."""
    codes = ",".join(pyotp.TOTP(TOTP_SECRET).at(at + d) for d in (0, 30, 60))
    query = urlencode({"h": hashlib.sha256(PASSWORD.encode()).hexdigest(), "codes": codes})
    return str(static_site.page("login.html")) + "?" + query


def test_offline_agent_logs_in_with_vault_and_no_secret_leaks(
    notte: NotteRunner, lanterna_server: Any, static_site: Any
) -> None:
    page = _login_page(static_site, time.time())
    out = notte.run(
        f"""
        from notte_sdk import NotteClient

        client = NotteClient()
        out = {{}}
        vault = client.Vault(name="login")
        vault.add_credentials(url={page!r}, username={USERNAME!r}, password={PASSWORD!r},
                              mfa_secret={TOTP_SECRET!r})
        with client.Session() as session:
            agent = client.Agent(session=session, vault=vault, max_steps=8)
            response = agent.run(task="Sign in to the site", url={page!r})
            out["agent_id"] = agent.agent_id
            out["success"] = response.success
            out["answer"] = response.answer
            out["response"] = response.model_dump_json()
            status = session.execute(type="evaluate_js", code="document.getElementById('status').textContent")
            out["status"] = status.data.model_dump_json() if status.data else status.message
        vault.delete()
        emit(out)
        """,
        timeout=180,
    )
    assert out["success"] is True, out["answer"]
    assert "password ok, code ok" in out["status"], out["status"]
    recorded = out["response"]
    assert "[[vault:password]]" in recorded and "[[vault:username]]" in recorded
    assert "multi_factor_fill" in recorded
    steps = httpx.get(f"{lanterna_server.url}/agents/{out['agent_id']}", headers=notte_headers(notte)).text
    places = {
        "response": recorded,
        "status": steps,
        "log": lanterna_server.log_path.read_text(errors="replace"),
    }
    for path in lanterna_server.home.glob("lanterna.db*"):
        places[path.name] = path.read_bytes().decode("latin-1")
    for where, text in places.items():
        for secret in (PASSWORD, TOTP_SECRET, USERNAME):
            assert secret not in text, f"{secret!r} leaked into {where}"


def notte_headers(notte: NotteRunner) -> dict[str, str]:
    return {"Authorization": f"Bearer {notte.api_key}"}


_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+")  # microseconds are digits too, never a code
_CODES_PARAM = re.compile(r"codes=[^\"&)\s]*")  # the test page's address: the codes it accepts


def test_no_secret_in_the_agent_logs_websocket_during_and_after_a_vault_run(
    notte: NotteRunner, static_site: Any
) -> None:
    started = time.time()
    page = _login_page(static_site, started)
    out = notte.run(
        f"""
        import os
        from websockets.sync.client import connect
        from notte_sdk import NotteClient

        client = NotteClient()
        out = {{}}
        vault = client.Vault(name="login-logs")
        vault.add_credentials(url={page!r}, username={USERNAME!r}, password={PASSWORD!r},
                              mfa_secret={TOTP_SECRET!r})
        logs = os.environ["NOTTE_API_URL"].replace("http", "ws", 1) + "/agents/{{}}/debug/logs?token="
        with client.Session() as session:
            agent = client.Agent(session=session, vault=vault, max_steps=8)
            agent.start(task="Sign in to the site", url={page!r})
            url = logs.format(agent.agent_id) + os.environ["NOTTE_API_KEY"]
            with connect(url, open_timeout=30) as ws:  # while it runs: until the server closes
                out["during"] = [message for message in ws]
            with connect(url, open_timeout=30) as ws:  # once it has ended: the whole replay
                out["after"] = [message for message in ws]
            status = client.agents.status(agent.agent_id)
            out["success"] = status.success
            out["answer"] = status.answer
        vault.delete()
        emit(out)
        """,
        timeout=180,
    )
    assert out["success"] is True, out["answer"]
    totp = pyotp.TOTP(TOTP_SECRET)
    typed = {totp.at(started + d) for d in range(-60, 150, 30)}  # every code valid during the run
    for when in ("during", "after"):
        messages = out[when]
        assert any("agent_stop" in m for m in messages), messages[-1:]
        assert any("[[vault:password]]" in m for m in messages)  # the steps came, with placeholders
        for message in messages:
            for secret in (PASSWORD, TOTP_SECRET, USERNAME):
                assert secret not in message, f"{secret!r} in a logs message {when} the run"
            scrubbed = _TIMESTAMP.sub("", _CODES_PARAM.sub("", message))
            for code in typed:
                assert code not in scrubbed, f"TOTP code in a logs message {when} the run"
