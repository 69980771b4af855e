"""Persistence: SQLAlchemy tables, Alembic migrations and repositories (SQLite or PostgreSQL)."""

from lanterna.store.db import Store
from lanterna.store.records import AgentRecord, SessionRecord

__all__ = ["AgentRecord", "SessionRecord", "Store"]
