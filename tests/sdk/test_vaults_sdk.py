"""lanterna's own SDK: ``client.Vault`` and ``client.vaults`` against the test server."""

from __future__ import annotations

from lanterna import Client
from lanterna.models.vault import Credentials, CreditCard


def test_sdk_vault_calls(fresh_client: Client) -> None:
    vault = fresh_client.Vault(name="sdk")
    vault.add_credentials("https://app.example.com/login", Credentials(username="bob", password="pw-123456"))
    assert vault.get_credentials("app.example.com").password == "pw-123456"
    assert [(c.url, c.username) for c in vault.list_credentials()] == [("app.example.com", "bob")]
    vault.set_credit_card(
        CreditCard(card_holder_name="B", card_number="4111", card_cvv="123", card_full_expiration="1/30")
    )
    assert vault.get_credit_card().card_number == "4111"
    vault.delete_credit_card()
    vault.delete_credentials("app.example.com")
    assert vault.list_credentials() == []
    assert [v.vault_id for v in fresh_client.vaults.list()] == [vault.vault_id]
    vault.delete()
    assert fresh_client.vaults.list() == []
