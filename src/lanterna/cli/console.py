"""The CLI's output: one rich console, and turning lanterna's errors into clear messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import httpx
import typer
from rich.console import Console

from lanterna.errors import (
    AuthenticationError,
    ChromiumNotFoundError,
    LanternaError,
    ServerUnavailableError,
)

# soft_wrap: long answers and URLs stay on one line, so they can be copied and grepped.
console = Console(soft_wrap=True, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, highlight=False)


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Print an error (and what to do about it) to stderr and exit with code 1."""
    err_console.print(f"[bold red]error:[/] {message}")
    if hint:
        err_console.print(f"[dim]hint:[/] {hint}")
    raise typer.Exit(code=1)


@contextmanager
def reported_errors(server_url: str | None = None) -> Iterator[None]:
    """Turn the errors a user can fix into a message and exit code 1 instead of a traceback."""
    where = server_url or "the lanterna server"
    try:
        yield
    except ChromiumNotFoundError as exc:
        fail(f"Chromium is needed but was not found: {exc.message}")
    except AuthenticationError as exc:
        fail(
            f"{where} refused the API key: {exc.message}",
            "create a key with `lanterna keys create NAME` where the server runs, and pass it with "
            "--api-key or LANTERNA_API_KEY",
        )
    except ServerUnavailableError as exc:  # its message names the URL and what to do
        fail(exc.message)
    except httpx.TransportError as exc:
        fail(
            f"cannot reach {where}: {exc}",
            "start a server with `lanterna serve`, or check --server / LANTERNA_API_URL",
        )
    except LanternaError as exc:
        fail(exc.message)
