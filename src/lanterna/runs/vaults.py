"""Vault service: seals secrets with AES-GCM before they reach the store, opens them for the
routes and for agent runs, and keeps every vault inside its tenant."""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import os
import secrets as random
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError

from lanterna.config import Settings
from lanterna.errors import InvalidRequestError, LanternaError, NotFoundError
from lanterna.models.vault import AgentVault, Credentials, CredentialSite, CreditCard, VaultInfo, site_of
from lanterna.store import Store
from lanterna.store.vaults import CARD_SITE

KEY_FILE = "vault.key"
_NONCE_BYTES = 12


class VaultKeyError(LanternaError):
    """``LANTERNA_VAULT_KEY`` or the key file is unusable; the server does not start with it."""


def _decode_key(text: str, where: str) -> bytes:
    text = text.strip()
    for decode in (bytes.fromhex, base64.urlsafe_b64decode, base64.b64decode):
        try:
            key = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(key) == 32:
            return key
    raise VaultKeyError(
        f"{where} is not a 256-bit key; set it to 64 hex digits or 32 bytes in base64 "
        '(e.g. the output of `python -c "import secrets; print(secrets.token_hex(32))"`)'
    )


def load_key(settings: Settings) -> bytes:
    """The vault key: ``LANTERNA_VAULT_KEY``, else ``LANTERNA_HOME/vault.key``, created once (0600)."""
    if settings.vault_key:
        return _decode_key(settings.vault_key, "LANTERNA_VAULT_KEY")
    path: Path = settings.home / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _decode_key(path.read_text(), str(path))
    with os.fdopen(fd, "w") as file:
        file.write(random.token_hex(32) + "\n")
    return _decode_key(path.read_text(), str(path))


class SecretCipher:
    """AES-256-GCM; each sealed value is bound to its vault and site, so rows cannot be swapped."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, vault_id: str, site: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, f"{vault_id}\n{site}".encode())

    def open(self, vault_id: str, site: str, sealed: bytes) -> bytes:
        return self._aead.decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], f"{vault_id}\n{site}".encode()
        )


def _site(url: str) -> str:
    site = site_of(url)
    if not site:
        raise InvalidRequestError(
            f"'{url}' has no host; give the site's URL or domain, e.g. 'https://example.com'"
        )
    return site


class VaultService:
    def __init__(self, store: Store, cipher: SecretCipher) -> None:
        self._store = store
        self._cipher = cipher

    async def create(self, tenant: str, name: str) -> VaultInfo:
        return await self._store.vaults.create(tenant, name)

    async def list(self, tenant: str, page: int, page_size: int) -> list[VaultInfo]:
        return await self._store.vaults.list(tenant, page=page, page_size=page_size)

    async def get(self, tenant: str, vault_id: str) -> VaultInfo:
        info = await self._store.vaults.get(tenant, vault_id)
        if info is None:
            raise NotFoundError(f"no vault '{vault_id}'; create one with POST /vaults/create")
        return info

    async def delete(self, tenant: str, vault_id: str) -> None:
        if not await self._store.vaults.delete(tenant, vault_id):
            raise NotFoundError(f"no vault '{vault_id}'; list yours with GET /vaults")

    async def add_credentials(self, tenant: str, vault_id: str, url: str, credentials: Credentials) -> str:
        await self.get(tenant, vault_id)
        site = _site(url)
        sealed = self._cipher.seal(vault_id, site, credentials.model_dump_json(exclude_none=True).encode())
        await self._store.vaults.put_secret(vault_id, site, sealed)
        return site

    async def get_credentials(self, tenant: str, vault_id: str, url: str) -> Credentials:
        await self.get(tenant, vault_id)
        site = _site(url)
        sealed = await self._store.vaults.get_secret(vault_id, site)
        if sealed is None:
            raise NotFoundError(f"vault '{vault_id}' holds no credentials for '{site}'; add them first")
        return Credentials.model_validate_json(self._cipher.open(vault_id, site, sealed))

    async def list_credentials(self, tenant: str, vault_id: str) -> builtins.list[CredentialSite]:
        await self.get(tenant, vault_id)
        vault = await self._open_all(vault_id)
        return [
            CredentialSite(url=site, username=c.username, email=c.email)
            for site, c in vault.credentials.items()
        ]

    async def delete_credentials(self, tenant: str, vault_id: str, url: str) -> None:
        await self.get(tenant, vault_id)
        site = _site(url)
        if not await self._store.vaults.delete_secret(vault_id, site):
            raise NotFoundError(f"vault '{vault_id}' holds no credentials for '{site}'")

    async def set_card(self, tenant: str, vault_id: str, card: CreditCard) -> None:
        await self.get(tenant, vault_id)
        sealed = self._cipher.seal(vault_id, CARD_SITE, card.model_dump_json().encode())
        await self._store.vaults.put_secret(vault_id, CARD_SITE, sealed)

    async def get_card(self, tenant: str, vault_id: str) -> CreditCard:
        await self.get(tenant, vault_id)
        sealed = await self._store.vaults.get_secret(vault_id, CARD_SITE)
        if sealed is None:
            raise NotFoundError(
                f"vault '{vault_id}' holds no credit card; set one with POST /vaults/{vault_id}/card"
            )
        return CreditCard.model_validate_json(self._cipher.open(vault_id, CARD_SITE, sealed))

    async def delete_card(self, tenant: str, vault_id: str) -> None:
        await self.get(tenant, vault_id)
        if not await self._store.vaults.delete_secret(vault_id, CARD_SITE):
            raise NotFoundError(f"vault '{vault_id}' holds no credit card")

    async def for_agent(self, tenant: str, vault_id: str) -> AgentVault:
        """Everything the vault holds, opened, for one agent run of the tenant."""
        await self.get(tenant, vault_id)
        return await self._open_all(vault_id)

    async def _open_all(self, vault_id: str) -> AgentVault:
        vault = AgentVault(vault_id=vault_id)
        for site, sealed in await self._store.vaults.secrets(vault_id):
            plaintext = self._cipher.open(vault_id, site, sealed)
            try:
                if site == CARD_SITE:
                    vault.card = CreditCard.model_validate_json(plaintext)
                else:
                    vault.credentials[site] = Credentials.model_validate_json(plaintext)
            except (ValidationError, json.JSONDecodeError):  # pragma: no cover - written by seal()
                continue
        return vault
