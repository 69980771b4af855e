"""SQLAlchemy table definitions. The schema itself is created by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lanterna.models.time import as_utc


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # SQLite stores text: keep it naive UTC so values sort and compare as strings.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: UtcDateTime}


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), index=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the plaintext key
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_tenant_created", "tenant", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    options: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    last_accessed_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    offset: Mapped[int] = mapped_column(Integer, default=0)  # executed actions + agent steps
    host: Mapped[str | None] = mapped_column(String(64), index=True)  # the browser host owning it (Ray)


class SessionActionRow(Base):
    __tablename__ = "session_actions"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    result: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class AgentRow(Base):
    __tablename__ = "agents"
    __table_args__ = (Index("ix_agents_tenant_created", "tenant", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    task: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    reasoning_model: Mapped[str | None] = mapped_column(String(200))
    max_steps: Mapped[int] = mapped_column(Integer)
    use_vision: Mapped[bool] = mapped_column(Boolean, default=False)
    response_format: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16), index=True)  # active | closed
    state: Mapped[str] = mapped_column(String(16))  # AgentState
    success: Mapped[bool | None] = mapped_column(Boolean)
    answer: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    replay_start_offset: Mapped[int] = mapped_column(Integer, default=0)
    replay_stop_offset: Mapped[int] = mapped_column(Integer, default=0)


class AgentStepRow(Base):
    __tablename__ = "agent_steps"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    step: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class RecordingRow(Base):
    """One session's recording: where its frames are on disk and how much they take."""

    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_tenant_started", "tenant", "started_at"),)

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)  # RecordingStatus
    directory: Mapped[str] = mapped_column(Text)  # relative to LANTERNA_HOME
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ProfileRow(Base):
    __tablename__ = "profiles"
    __table_args__ = (Index("ix_profiles_tenant_created", "tenant", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    persisted_domains: Mapped[list[str]] = mapped_column(JSON)


class VaultRow(Base):
    """A tenant's vault. Its secrets are in ``vault_secrets``, AES-GCM encrypted."""

    __tablename__ = "vaults"
    __table_args__ = (Index("ix_vaults_tenant_created", "tenant", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class VaultSecretRow(Base):
    """One encrypted secret of a vault: a site's credentials (``site`` is the host) or the card
    (``site`` is empty). ``sealed`` is nonce + ciphertext, bound to the vault id and site."""

    __tablename__ = "vault_secrets"

    vault_id: Mapped[str] = mapped_column(ForeignKey("vaults.id", ondelete="CASCADE"), primary_key=True)
    site: Mapped[str] = mapped_column(String(1024), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]


class HostRow(Base):
    """A browser host of a Ray cluster: where its API listens and when it last said it was alive."""

    __tablename__ = "hosts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    lost_reason: Mapped[str | None] = mapped_column(Text)
