"""Vaults and their sealed secrets. Rows hold ciphertext only: sealing is the caller's
(``runs/vaults.py``), so this module never sees a secret in the clear."""

from __future__ import annotations

import builtins
import secrets as random

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanterna.models.time import utc_now
from lanterna.models.vault import VaultInfo
from lanterna.store.tables import VaultRow, VaultSecretRow

CARD_SITE = ""  # the card's row: no site


def _info(row: VaultRow) -> VaultInfo:
    return VaultInfo(vault_id=row.id, name=row.name, created_at=row.created_at)


class VaultRepository:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def create(self, tenant: str, name: str) -> VaultInfo:
        row = VaultRow(id="vault_" + random.token_hex(12), tenant=tenant, name=name, created_at=utc_now())
        async with self._sessionmaker.begin() as db:
            db.add(row)
        return _info(row)

    async def get(self, tenant: str, vault_id: str) -> VaultInfo | None:
        """The tenant's vault, or ``None`` (also when it belongs to another tenant)."""
        async with self._sessionmaker() as db:
            row = await db.get(VaultRow, vault_id)
            return _info(row) if row is not None and row.tenant == tenant else None

    async def list(self, tenant: str, *, page: int = 1, page_size: int = 20) -> builtins.list[VaultInfo]:
        async with self._sessionmaker() as db:
            rows = await db.scalars(
                select(VaultRow)
                .where(VaultRow.tenant == tenant)
                .order_by(VaultRow.created_at.desc(), VaultRow.id)
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
            return [_info(r) for r in rows]

    async def delete(self, tenant: str, vault_id: str) -> bool:
        async with self._sessionmaker.begin() as db:
            row = await db.get(VaultRow, vault_id)
            if row is None or row.tenant != tenant:
                return False
            await db.execute(delete(VaultSecretRow).where(VaultSecretRow.vault_id == vault_id))
            await db.delete(row)
            return True

    async def put_secret(self, vault_id: str, site: str, sealed: bytes) -> None:
        """Store or replace the sealed secret of ``site`` (``CARD_SITE`` for the card)."""
        async with self._sessionmaker.begin() as db:
            row = await db.get(VaultSecretRow, (vault_id, site))
            if row is None:
                db.add(VaultSecretRow(vault_id=vault_id, site=site, sealed=sealed, updated_at=utc_now()))
            else:
                row.sealed = sealed
                row.updated_at = utc_now()

    async def get_secret(self, vault_id: str, site: str) -> bytes | None:
        async with self._sessionmaker() as db:
            row = await db.get(VaultSecretRow, (vault_id, site))
            return row.sealed if row is not None else None

    async def secrets(self, vault_id: str) -> builtins.list[tuple[str, bytes]]:
        """Every (site, sealed) of the vault, the card's row included."""
        async with self._sessionmaker() as db:
            rows = await db.scalars(
                select(VaultSecretRow)
                .where(VaultSecretRow.vault_id == vault_id)
                .order_by(VaultSecretRow.site)
            )
            return [(r.site, r.sealed) for r in rows]

    async def delete_secret(self, vault_id: str, site: str) -> bool:
        async with self._sessionmaker.begin() as db:
            result = await db.execute(
                delete(VaultSecretRow).where(VaultSecretRow.vault_id == vault_id, VaultSecretRow.site == site)
            )
            return bool(getattr(result, "rowcount", 0))
