"""``lanterna keys create|list|revoke``: API keys of the server's database (each key is a tenant)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from lanterna.cli.console import console, reported_errors
from lanterna.config import get_settings
from lanterna.models.keys import ApiKeyInfo

app = typer.Typer(
    help="Create, list and revoke API keys in the server's database (LANTERNA_HOME / LANTERNA_DATABASE_URL).",
    no_args_is_help=True,
)

T = TypeVar("T")


def _with_store(work: Callable[..., Awaitable[T]]) -> T:
    from lanterna.store.db import Store

    async def run() -> T:
        store = await Store.open(get_settings().resolved_database_url)
        try:
            return await work(store)
        finally:
            await store.close()

    with reported_errors():
        return asyncio.run(run())


@app.command("create")
def create(
    name_argument: str | None = typer.Argument(
        None, metavar="[NAME]", help="A name to recognise the key by."
    ),
    name: str | None = typer.Option(None, "--name", help="Same as NAME."),
) -> None:
    """Create a key. The key itself is printed alone on the last line (it is stored hashed: keep it)."""
    chosen = name or name_argument or "default"
    info, plaintext = _with_store(lambda store: store.keys.create(chosen))
    console.print(
        f"Created key [bold]{escape(info.key_id)}[/] ({escape(info.name)}); pass it as a bearer token:"
    )
    print(plaintext)


@app.command("list")
def list_keys() -> None:
    """List keys (prefixes only: the keys themselves are not stored)."""
    keys: list[ApiKeyInfo] = _with_store(lambda store: store.keys.list())
    if not keys:
        console.print("No keys yet. Create one with `lanterna keys create`.")
        return
    table = Table()
    # Ids and prefixes are what `keys revoke` takes: never shorten them.
    table.add_column("id", no_wrap=True, min_width=16)
    table.add_column("prefix", no_wrap=True, min_width=12)
    for column in ("name", "created (UTC)", "revoked (UTC)"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.key_id,
            key.prefix + "…",
            escape(key.name),
            key.created_at.strftime("%Y-%m-%d %H:%M"),
            key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else "-",
        )
    console.print(table)


@app.command("revoke")
def revoke(
    key: str = typer.Argument(..., metavar="KEY_ID_OR_PREFIX", help="Key id, prefix, or the key."),
) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    info: ApiKeyInfo = _with_store(lambda store: store.keys.revoke(key))
    console.print(f"Revoked key {escape(info.key_id)} ({escape(info.name)}, {info.prefix}…).")
