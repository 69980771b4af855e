"""``client.vaults`` and ``client.Vault``: logins and a card an agent may use without seeing them.

Start an agent with the vault's id (``vault_id``); it sees placeholders, never the secrets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from lanterna.models.vault import Credentials, CredentialSite, CreditCard, VaultInfo
from lanterna.wire import (
    Page,
    VaultCardResponse,
    VaultCredentialsListResponse,
    VaultCredentialsResponse,
    VaultStatusResponse,
)

if TYPE_CHECKING:
    from lanterna.sdk.client import Client


class VaultsApi:
    """Create, list, open and delete your vaults."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(self, name: str = "default") -> Vault:
        call = self._client._transport.call(VaultInfo, "POST", "/vaults/create", json_body={"name": name})
        return Vault(self._client, self._client._loop.run_sync(call).vault_id)

    def list(self, *, page: int = 1, page_size: int = 20) -> list[VaultInfo]:
        params: dict[str, str | int] = {"page": page, "page_size": page_size}
        call = self._client._transport.call(Page[VaultInfo], "GET", "/vaults", params=params)
        return self._client._loop.run_sync(call).items


class Vault:
    """One vault; every call goes to the server (nothing secret is cached here)."""

    def __init__(self, client: Client, vault_id: str) -> None:
        self._client = client
        self.vault_id = vault_id
        self._path = f"/vaults/{quote(vault_id, safe='')}"

    def _call(self, model: type, method: str, suffix: str = "", **kwargs: object) -> object:
        call: Any = self._client._transport.call(model, method, self._path + suffix, **kwargs)  # type: ignore[arg-type]
        return self._client._loop.run_sync(call)

    def add_credentials(self, url: str, credentials: Credentials) -> None:
        body = {"url": url, "credentials": credentials.model_dump(exclude_none=True)}
        self._call(VaultStatusResponse, "POST", "/credentials", json_body=body)

    def get_credentials(self, url: str) -> Credentials:
        got = self._call(VaultCredentialsResponse, "GET", "/credentials", params={"url": url})
        assert isinstance(got, VaultCredentialsResponse)
        return got.credentials

    def list_credentials(self) -> list[CredentialSite]:
        got = self._call(VaultCredentialsListResponse, "GET")
        assert isinstance(got, VaultCredentialsListResponse)
        return got.credentials

    def delete_credentials(self, url: str) -> None:
        self._call(VaultStatusResponse, "DELETE", "/credentials", params={"url": url})

    def set_credit_card(self, card: CreditCard) -> None:
        self._call(VaultStatusResponse, "POST", "/card", json_body={"credit_card": card.model_dump()})

    def get_credit_card(self) -> CreditCard:
        got = self._call(VaultCardResponse, "GET", "/card")
        assert isinstance(got, VaultCardResponse)
        return got.credit_card

    def delete_credit_card(self) -> None:
        self._call(VaultStatusResponse, "DELETE", "/card")

    def delete(self) -> None:
        self._call(VaultStatusResponse, "DELETE")
