"""Options and connection shared by the commands that talk to a running lanterna server."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from lanterna.cli.console import fail
from lanterna.models.time import utc_now

if TYPE_CHECKING:
    from lanterna import Client

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="LANTERNA_API_URL",
        help="URL of the lanterna server (default: http://127.0.0.1:8000).",
        show_default=False,
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="LANTERNA_API_KEY", help="API key of the server.", show_default=False),
]


def connect(server: str | None, api_key: str | None) -> Client:
    """An SDK client for ``server`` with ``api_key`` (each defaults as in the SDK); use it in ``with``."""
    from lanterna import Client

    if not api_key:
        fail(
            "no API key: pass --api-key or set LANTERNA_API_KEY",
            "`lanterna serve` prints a key on first start; `lanterna keys create NAME` makes another",
        )
    return Client(api_key=api_key, server_url=server.rstrip("/") if server else None)


def ago(moment: datetime | None) -> str:
    """``12 s ago``, ``5 min ago``, ``3 h ago``, ``2 d ago``; ``-`` for none."""
    if moment is None:
        return "-"
    seconds = max(0.0, (utc_now() - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds)} s ago"
