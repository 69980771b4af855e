"""Vaults through the official notte-sdk 1.8.6, unchanged: every call, tenant isolation, bad input."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pyotp

from tests.fixtures.sdk import NotteRunner

PASSWORD = "S3cret-pa55word-QX"  # a test secret that must never leak
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_notte_vault_calls(notte: NotteRunner, lanterna_server: Any) -> None:
    out = notte.run(
        f"""
        from notte_sdk import NotteClient

        client = NotteClient()
        out = {{}}
        vault = client.Vault(name="work")
        out["vault_id"] = vault.vault_id
        vault.add_credentials(url="https://www.shop.example.com/login", username="alice",
                              password={PASSWORD!r}, mfa_secret={TOTP_SECRET!r})
        vault.add_credentials(url="https://news.example.org", email="a@example.org", password="other-pass-1")
        got = vault.get_credentials("https://shop.example.com/")
        out["got"] = dict(got) if got else None
        out["listed"] = sorted([c.url, c.username, c.email] for c in vault.list_credentials())
        vault.set_credit_card(card_holder_name="Alice A", card_number="4111111111111111",
                              card_cvv="123", card_full_expiration="12/29")
        out["card"] = dict(vault.get_credit_card())
        vault.delete_credit_card()
        try:
            vault.get_credit_card()
            out["card_after"] = "still there"
        except Exception as e:
            out["card_after"] = type(e).__name__
        vault.delete_credentials("https://news.example.org")
        out["after_delete"] = [c.url for c in vault.list_credentials()]
        out["vaults"] = [v.vault_id for v in client.vaults.list()]
        again = client.Vault(vault.vault_id)
        out["again"] = again.vault_id
        vault.delete()
        out["vaults_after"] = [v.vault_id for v in client.vaults.list()]
        emit(out)
        """
    )
    assert out["got"]["username"] == "alice" and out["got"]["password"] == PASSWORD
    totp = pyotp.TOTP(TOTP_SECRET)  # notte's client turns the stored secret into the current code
    assert out["got"]["mfa_secret"] in {totp.at(time.time() + d) for d in (-30, 0, 30)}
    # notte's client reduces a URL to its registrable domain before sending it
    assert out["listed"] == [["example.com", "alice", None], ["example.org", None, "a@example.org"]]
    assert out["card"]["card_number"] == "4111111111111111"
    assert out["card_after"] != "still there"
    assert out["after_delete"] == ["example.com"]
    assert out["vault_id"] in out["vaults"] and out["again"] == out["vault_id"]
    assert out["vault_id"] not in out["vaults_after"]


def test_vault_of_another_tenant_is_404(lanterna_server: Any) -> None:
    base = lanterna_server.url
    mine = {"Authorization": f"Bearer {lanterna_server.new_key('vault-a')}"}
    theirs = {"Authorization": f"Bearer {lanterna_server.new_key('vault-b')}"}
    vault_id = httpx.post(f"{base}/vaults/create", json={"name": "a"}, headers=mine).json()["vault_id"]
    body = {"url": "example.com", "credentials": {"username": "u", "password": PASSWORD}}
    assert httpx.post(f"{base}/vaults/{vault_id}/credentials", json=body, headers=mine).status_code == 200
    calls = [
        ("GET", f"/vaults/{vault_id}", None),
        ("GET", f"/vaults/{vault_id}/credentials?url=example.com", None),
        ("POST", f"/vaults/{vault_id}/credentials", body),
        ("DELETE", f"/vaults/{vault_id}/credentials?url=example.com", None),
        ("GET", f"/vaults/{vault_id}/card", None),
        ("DELETE", f"/vaults/{vault_id}", None),
    ]
    for method, path, json_body in calls:
        response = httpx.request(method, base + path, json=json_body, headers=theirs)
        assert response.status_code == 404, (method, path, response.text)
        assert PASSWORD not in response.text
    assert vault_id not in httpx.get(f"{base}/vaults", headers=theirs).text
    got = httpx.get(f"{base}/vaults/{vault_id}/credentials", params={"url": "example.com"}, headers=mine)
    assert got.json()["credentials"]["password"] == PASSWORD


def test_bad_vault_input_is_4xx_naming_the_fix(lanterna_server: Any) -> None:
    base, headers = lanterna_server.url, lanterna_server.headers
    vault_id = httpx.post(f"{base}/vaults/create", json={}, headers=headers).json()["vault_id"]
    cases = [
        ({"url": "example.com", "credentials": {"password": "p"}}, "username"),
        (
            {"url": "example.com", "credentials": {"username": "u", "email": "e@x.org", "password": "p"}},
            "one of",
        ),
        (
            {
                "url": "example.com",
                "credentials": {"username": "u", "password": "p", "mfa_secret": "123456!"},
            },
            "base32",
        ),
        ({"url": "///", "credentials": {"username": "u", "password": "p"}}, "host"),
        ({"url": "example.com", "credentials": {"username": "u\x00", "password": "p"}}, "NUL"),
    ]
    for body, hint in cases:
        response = httpx.post(f"{base}/vaults/{vault_id}/credentials", json=body, headers=headers)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert hint in response.text, (body, response.text)
    card = httpx.post(
        f"{base}/vaults/{vault_id}/card", json={"credit_card": {"card_number": "1"}}, headers=headers
    )
    assert card.status_code == 422 and "card_cvv" in card.text
    missing = httpx.get(
        f"{base}/vaults/{vault_id}/credentials", params={"url": "nowhere.org"}, headers=headers
    )
    assert missing.status_code == 404 and "nowhere.org" in missing.text


def test_personas_answer_501(notte: NotteRunner, lanterna_server: Any) -> None:
    response = httpx.post(f"{lanterna_server.url}/personas/create", json={}, headers=lanterna_server.headers)
    assert response.status_code == 501 and "hosted-only" in response.json()["message"]
    out = notte.run(
        """
        from notte_sdk import NotteClient
        try:
            NotteClient().personas.list()
            emit("no error")
        except Exception as e:
            emit(str(e))
        """
    )
    assert "hosted-only" in out


def test_vault_secrets_are_encrypted_at_rest(lanterna_server: Any) -> None:
    base, headers = lanterna_server.url, lanterna_server.headers
    vault_id = httpx.post(f"{base}/vaults/create", json={"name": "rest"}, headers=headers).json()["vault_id"]
    secret = "at-rest-" + PASSWORD
    body = {"url": "rest.example.com", "credentials": {"username": "rest-user-xyz", "password": secret}}
    assert httpx.post(f"{base}/vaults/{vault_id}/credentials", json=body, headers=headers).status_code == 200
    key_file = lanterna_server.home / "vault.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    for path in lanterna_server.home.glob("lanterna.db*"):
        data = path.read_bytes()
        assert secret.encode() not in data and b"rest-user-xyz" not in data
