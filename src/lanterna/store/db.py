"""The database: engine, migrations and repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from lanterna.store.agents import AgentRepository
from lanterna.store.hosts import HostRepository
from lanterna.store.keys import KeyRepository
from lanterna.store.profiles import ProfileRepository
from lanterna.store.recordings import RecordingRepository
from lanterna.store.sessions import SessionRepository
from lanterna.store.vaults import VaultRepository

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the migrations shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade_to_head(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the CLI (keys) write while a server reads; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; for SQLite, creates the file's directory."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


class Store:
    """Everything lanterna persists. Open with ``await Store.open(url)``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        self.keys = KeyRepository(sessionmaker)
        self.sessions = SessionRepository(sessionmaker)
        self.agents = AgentRepository(sessionmaker)
        self.recordings = RecordingRepository(sessionmaker)
        self.profiles = ProfileRepository(sessionmaker)
        self.vaults = VaultRepository(sessionmaker)
        self.hosts = HostRepository(sessionmaker)

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect to ``url`` (SQLite or PostgreSQL, async drivers) and migrate the schema to head."""
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(_upgrade_to_head)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    async def close(self) -> None:
        await self.engine.dispose()
