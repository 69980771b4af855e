"""``client.vaults`` and ``client.Vault``: logins and a card an agent may use without seeing them.

Start an agent with the vault's id (``vault_id``); it sees placeholders, never the secrets.
"""

from __future__ import annotations

from lanterna.models.vault import Credentials, CredentialSite, CreditCard, VaultInfo
from lanterna.sdk.api import Context


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
        self._context = context
        self._core = AsyncVault(context, vault_id)
        self.vault_id = vault_id

    def add_credentials(self, url: str, credentials: Credentials) -> None:
        self._context.block(self._core.add_credentials(url, credentials))

    def get_credentials(self, url: str) -> Credentials:
        return self._context.block(self._core.get_credentials(url))

    def list_credentials(self) -> list[CredentialSite]:
        return self._context.block(self._core.list_credentials())

    def delete_credentials(self, url: str) -> None:
        self._context.block(self._core.delete_credentials(url))

    def set_credit_card(self, card: CreditCard) -> None:
        self._context.block(self._core.set_credit_card(card))

    def get_credit_card(self) -> CreditCard:
        return self._context.block(self._core.get_credit_card())

    def delete_credit_card(self) -> None:
        self._context.block(self._core.delete_credit_card())

    def delete(self) -> None:
        self._context.block(self._core.delete())


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
        self._context = context

    def create(self, name: str = "default") -> Vault:
        info = self._context.block(self._context.api.create_vault(name))
        return Vault(self._context, info.vault_id)

    def list(self, *, page: int = 1, page_size: int = 20) -> list[VaultInfo]:
        return self._context.block(self._context.api.list_vaults(page=page, page_size=page_size))
