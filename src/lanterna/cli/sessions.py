"""``lanterna sessions ls|stop|replay``: browser sessions on a running server."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from lanterna.cli.console import console, reported_errors
from lanterna.cli.remote import ApiKeyOption, ServerOption, ago, connect

app = typer.Typer(help="List and stop browser sessions on a lanterna server.", no_args_is_help=True)


@app.command("ls")
def list_sessions(
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    all_: bool = typer.Option(False, "--all", "-a", help="Include closed sessions."),
    limit: int = typer.Option(20, "--limit", min=1, max=100, help="Show at most this many."),
) -> None:
    """List active sessions (newest first)."""
    with connect(server, api_key) as client, reported_errors(client.server_url):
        sessions = client.sessions.list(only_active=not all_, page_size=limit)
    if not sessions:
        console.print("No active sessions." if not all_ else "No sessions.")
        return
    table = Table()
    for column in ("session", "status", "created", "last used", "closed"):
        table.add_column(column)
    for session in sessions:
        table.add_row(
            session.session_id,
            session.status,
            ago(session.created_at),
            ago(session.last_accessed_at),
            ago(session.closed_at),
        )
    console.print(table)


@app.command("stop")
def stop_session(
    session_id: str = typer.Argument(..., help="Id of the session to stop."),
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Stop a session: its browser is closed and any agent running in it stops."""
    with connect(server, api_key) as client, reported_errors(client.server_url):
        session = client.sessions.stop(session_id)
    console.print(f"Session {session.session_id} is {session.status}.")


@app.command("replay")
def replay_session(
    session_id: str = typer.Argument(..., help="Id of a stopped session."),
    output: Path = typer.Option(Path("session.mp4"), "--output", "-o", help="Where to save the MP4."),
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Save a stopped session's recording as an MP4 video (idle gaps shortened)."""
    with connect(server, api_key) as client, reported_errors(client.server_url):
        output.write_bytes(client.sessions.replay(session_id))
    console.print(f"Saved the replay of session {session_id} to {output}")
