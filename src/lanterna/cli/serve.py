"""``lanterna serve``: run the API server (sessions, agents, CDP) until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio

import typer
from rich.markup import escape

from lanterna.cli.console import console, reported_errors
from lanterna.config import Settings, get_settings
from lanterna.errors import InvalidRequestError

FIRST_KEY_NAME = "default"
ENV_KEY_NAME = "LANTERNA_API_KEY"


async def prepare_keys(database_url: str, api_key: str | None) -> str | None:
    """Migrate the store, register ``api_key`` if it is new, and create a first key if there is none.

    Returns the plaintext of a key created now (it cannot be shown again), else ``None``.
    """
    from lanterna.store.db import Store

    store = await Store.open(database_url)
    try:
        if api_key:
            await store.keys.register(api_key, ENV_KEY_NAME)
        if await store.keys.count_active() == 0:
            _, plaintext = await store.keys.create(FIRST_KEY_NAME)
            return plaintext
        return None
    finally:
        await store.close()


def serve(
    host: str = typer.Option(
        None, "--host", help="Interface to bind (default: LANTERNA_HOST, else 127.0.0.1)."
    ),
    port: int = typer.Option(None, "--port", help="Port to listen on (default: LANTERNA_PORT, else 8000)."),
    api_key: str | None = typer.Option(
        None,
        "--api-key",
        envvar="LANTERNA_API_KEY",
        help="Also accept this API key (registered on first use).",
        show_default=False,
    ),
    ray_address: str | None = typer.Option(
        None,
        "--ray",
        envvar="LANTERNA_RAY_ADDRESS",
        help="Cluster mode: join this Ray cluster ('auto' for the local one) and serve its browser hosts.",
        show_default=False,
    ),
) -> None:
    """Run the lanterna API server. On first start it creates an API key and prints it."""
    from lanterna.browser.chromium import find_chromium
    from lanterna.demo.site import STATIC_DIR as DEMO_SHOP_DIR
    from lanterna.server.app import serve as run_server

    settings = get_settings()
    if ray_address:
        settings = settings.model_copy(update={"ray_address": ray_address})
    with reported_errors():
        check_cluster_settings(settings)
        find_chromium(settings)  # fail now with what to install, not in the middle of start-up
        created = asyncio.run(prepare_keys(settings.resolved_database_url, api_key))
    if created:
        console.print("[bold]No API key existed; created one.[/] Keep it, it is not shown again:")
        console.print(created)
    bound_host = host or settings.host
    bound_port = settings.port if port is None else port
    console.print(
        f"[bold]lanterna[/] serving on http://{escape(bound_host)}:{bound_port} "
        f"(API reference at /docs, database {escape(_redacted(settings.resolved_database_url))})"
    )
    run_server(settings, bound_host, bound_port, static_sites={"/demo": DEMO_SHOP_DIR})


def check_cluster_settings(settings: Settings) -> None:
    """Cluster mode needs what every replica and host can share: PostgreSQL, and Ray installed."""
    if settings.ray_address is None:
        return
    if settings.resolved_database_url.startswith("sqlite"):
        raise InvalidRequestError(
            "cluster mode (--ray) needs a database every machine shares: set LANTERNA_DATABASE_URL "
            "to a PostgreSQL URL, e.g. postgresql+asyncpg://user@db-host:5432/lanterna"
        )
    try:
        import ray  # noqa: F401
    except ImportError:
        raise InvalidRequestError("cluster mode (--ray) needs Ray: pip install 'lanterna[ray]'") from None


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
