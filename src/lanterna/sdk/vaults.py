"""``client.vaults`` and ``client.Vault``: logins and a card an agent may use without seeing them.

Start an agent with the vault's id (``vault_id``); it sees placeholders, never the secrets.
"""

from __future__ import annotations

from lanterna.models.vault import Credentials, CredentialSite, CreditCard, VaultInfo
from lanterna.sdk.api import Context
from lanterna.sdk.blocking import blocking


class AsyncVault:
    """One vault, awaited; every call goes to the server (nothing secret is cached here)."""

    def __init__(self, context: Context, vault_id: str) -> None:
        self._api = context.api
        self.vault_id = vault_id

    async def add_credentials(self, url: str, credentials: Credentials) -> None:
        await self._api.add_credentials(self.vault_id, url, credentials)

    async def get_credentials(self, url: str) -> Credentials:
        return await self._api.credentials(self.vault_id, url)

    async def list_credentials(self) -> list[CredentialSite]:
        return await self._api.list_credentials(self.vault_id)

    async def delete_credentials(self, url: str) -> None:
        await self._api.delete_credentials(self.vault_id, url)

    async def set_credit_card(self, card: CreditCard) -> None:
        await self._api.set_credit_card(self.vault_id, card)

    async def get_credit_card(self) -> CreditCard:
        return await self._api.credit_card(self.vault_id)

    async def delete_credit_card(self) -> None:
        await self._api.delete_credit_card(self.vault_id)

    async def delete(self) -> None:
        await self._api.delete_vault(self.vault_id)


class Vault:
    """One vault; every call goes to the server (nothing secret is cached here)."""

    def __init__(self, context: Context, vault_id: str) -> None:
        self.context = context
        self.core = AsyncVault(context, vault_id)
        self.vault_id = vault_id

    add_credentials = blocking(AsyncVault.add_credentials)
    get_credentials = blocking(AsyncVault.get_credentials)
    list_credentials = blocking(AsyncVault.list_credentials)
    delete_credentials = blocking(AsyncVault.delete_credentials)
    set_credit_card = blocking(AsyncVault.set_credit_card)
    get_credit_card = blocking(AsyncVault.get_credit_card)
    delete_credit_card = blocking(AsyncVault.delete_credit_card)
    delete = blocking(AsyncVault.delete)


class AsyncVaultsApi:
    """Create and list your vaults (awaited)."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def create(self, name: str = "default") -> AsyncVault:
        info = await self._context.api.create_vault(name)
        return AsyncVault(self._context, info.vault_id)

    async def list(self, *, page: int = 1, page_size: int = 20) -> list[VaultInfo]:
        return await self._context.api.list_vaults(page=page, page_size=page_size)


class VaultsApi:
    """Create and list your vaults."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.core = AsyncVaultsApi(context)

    def create(self, name: str = "default") -> Vault:
        info = self.context.block(self.context.api.create_vault(name))
        return Vault(self.context, info.vault_id)

    list = blocking(AsyncVaultsApi.list)
