"""API keys: stored as a SHA-256 hash, shown in plaintext only once, at creation.

``authenticate`` may answer from memory: a key found valid is remembered (by its hash) for as
long as the caller allows (``max_age_s``), so a client polling many times a second costs one
query per interval, not one per request. A revocation in this process forgets the key at once;
one in another process (``lanterna keys revoke``) is learnt by the server's revocation poll,
which asks about ``remembered_tenants()`` too, and ``revoked_among`` forgets what it finds revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Collection

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanterna.errors import InvalidRequestError, NotFoundError
from lanterna.models.keys import ApiKeyInfo
from lanterna.models.time import utc_now
from lanterna.store.tables import ApiKeyRow

KEY_PREFIX = "lt_"
PREFIX_LENGTH = 11  # "lt_" + 8 characters: enough to tell keys apart in listings
REMEMBERED_KEYS = 4096  # valid keys kept in memory; the least recently used is forgotten first


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(
        key_id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at, revoked_at=row.revoked_at
    )


class KeyRepository:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        # key hash -> (tenant, time.monotonic() when it was last found valid in the database)
        self._valid: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def create(self, name: str = "default") -> tuple[ApiKeyInfo, str]:
        """A new key; returns its info and the plaintext, which is not stored."""
        plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
        return await self.register(plaintext, name), plaintext

    async def register(self, plaintext: str, name: str) -> ApiKeyInfo:
        """Store a key chosen by the caller (e.g. from ``LANTERNA_API_KEY``); a known key is kept as is."""
        digest = hash_key(plaintext)
        async with self._sessionmaker.begin() as db:
            row = await db.scalar(select(ApiKeyRow).where(ApiKeyRow.hash == digest))
            if row is None:
                row = ApiKeyRow(
                    id="key_" + secrets.token_hex(6),
                    name=name,
                    prefix=plaintext[:PREFIX_LENGTH],
                    hash=digest,
                    created_at=utc_now(),
                    revoked_at=None,
                )
                db.add(row)
            return _info(row)

    async def authenticate(self, plaintext: str, *, max_age_s: float = 0.0) -> str | None:
        """The key id (the tenant) of a valid, unrevoked key; ``None`` otherwise.

        With ``max_age_s`` > 0 the answer may come from memory if the database said this key was
        valid less than ``max_age_s`` ago (an invalid key is always looked up).
        """
        digest = hash_key(plaintext)
        remembered = self._valid.get(digest)
        now = time.monotonic()
        if remembered is not None and now - remembered[1] < max_age_s:
            self._valid.move_to_end(digest)
            return remembered[0]
        async with self._sessionmaker() as db:
            tenant = await db.scalar(
                select(ApiKeyRow.id).where(ApiKeyRow.hash == digest, ApiKeyRow.revoked_at.is_(None))
            )
        if tenant is None:
            self._valid.pop(digest, None)
        elif max_age_s > 0:
            self._valid[digest] = (tenant, now)
            self._valid.move_to_end(digest)
            while len(self._valid) > REMEMBERED_KEYS:
                self._valid.popitem(last=False)
        return tenant

    def remembered_tenants(self) -> set[str]:
        """Tenants whose key ``authenticate`` may answer from memory (the revocation poll asks about them)."""
        return {tenant for tenant, _ in self._valid.values()}

    def _forget(self, tenants: Collection[str]) -> None:
        for digest in [d for d, (tenant, _) in self._valid.items() if tenant in tenants]:
            del self._valid[digest]

    async def revoked_among(self, key_ids: Collection[str]) -> set[str]:
        """Which of ``key_ids`` are revoked (or deleted): one indexed query, cheap enough to poll.
        ``authenticate`` forgets the keys found revoked."""
        if not key_ids:
            return set()
        async with self._sessionmaker() as db:
            valid = set(
                await db.scalars(
                    select(ApiKeyRow.id).where(ApiKeyRow.id.in_(key_ids), ApiKeyRow.revoked_at.is_(None))
                )
            )
        revoked = set(key_ids) - valid
        if revoked:
            self._forget(revoked)
        return revoked

    async def list(self) -> list[ApiKeyInfo]:
        async with self._sessionmaker() as db:
            rows = await db.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))
            return [_info(r) for r in rows]

    async def count_active(self) -> int:
        async with self._sessionmaker() as db:
            count = await db.scalar(
                select(func.count()).select_from(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None))
            )
            return count or 0

    async def revoke(self, key_id_or_prefix: str) -> ApiKeyInfo:
        """Revoke the one key with this id, prefix (or whole plaintext). Revoking twice is harmless.

        ``NotFoundError`` when nothing matches; ``InvalidRequestError`` when a prefix matches several keys.
        """
        async with self._sessionmaker.begin() as db:
            rows = list(await db.scalars(_match(key_id_or_prefix)))
            if not rows:
                raise NotFoundError(
                    f"no API key has the id or prefix '{key_id_or_prefix}'; see `lanterna keys list`"
                )
            if len(rows) > 1:
                ids = ", ".join(r.id for r in rows)
                raise InvalidRequestError(
                    f"'{key_id_or_prefix}' matches {len(rows)} keys ({ids}); give the key id instead"
                )
            row = rows[0]
            if row.revoked_at is None:
                row.revoked_at = utc_now()
            self._forget({row.id})
            return _info(row)


def _match(key_id_or_prefix: str) -> Select[ApiKeyRow]:
    text = key_id_or_prefix.strip()
    if len(text) > PREFIX_LENGTH:  # an id or a whole key
        return select(ApiKeyRow).where(or_(ApiKeyRow.id == text, ApiKeyRow.hash == hash_key(text)))
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return select(ApiKeyRow).where(
        or_(ApiKeyRow.id == text, ApiKeyRow.prefix.like(escaped + "%", escape="\\"))
    )
