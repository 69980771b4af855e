"""An agent with a vault logs in on a local page through the official client, and no secret
shows up in its steps, its answer, the database file or the server log."""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import pyotp

from tests.fixtures.sdk import NotteRunner

USERNAME = "vault-user-7731"
PASSWORD = "Vault-Pa55word-9QX"  # must never leak
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"


def test_offline_agent_logs_in_with_vault_and_no_secret_leaks(
    notte: NotteRunner, lanterna_server: Any, static_site: Any
) -> None:
    totp = pyotp.TOTP(TOTP_SECRET)
    codes = ",".join(totp.at(time.time() + d) for d in (0, 30, 60))
    query = urlencode({"h": hashlib.sha256(PASSWORD.encode()).hexdigest(), "codes": codes})
    page = static_site.page("login.html") + "?" + query
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
