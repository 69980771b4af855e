"""``lanterna agents ls|show|stop|replay``: agent runs on a running server."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from lanterna.cli.console import console, reported_errors
from lanterna.cli.live import steps_table
from lanterna.cli.remote import ApiKeyOption, ServerOption, ago, connect

app = typer.Typer(help="List, inspect and stop agents on a lanterna server.", no_args_is_help=True)

MAX_TASK_CHARS = 60


def _outcome(success: bool | None) -> str:
    return "[dim]-[/]" if success is None else ("[green]yes[/]" if success else "[red]no[/]")


@app.command("ls")
def list_agents(
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    all_: bool = typer.Option(False, "--all", "-a", help="Include finished agents."),
    limit: int = typer.Option(20, "--limit", min=1, max=100, help="Show at most this many."),
) -> None:
    """List running agents (newest first)."""
    with connect(server, api_key) as client, reported_errors(client.server_url):
        agents = client.agents.list(only_active=not all_, page_size=limit)
    if not agents:
        console.print("No running agents." if not all_ else "No agents.")
        return
    table = Table()
    for column in ("agent", "session", "state", "success", "task", "created"):
        table.add_column(column)
    for agent in agents:
        task = agent.task if len(agent.task) <= MAX_TASK_CHARS else agent.task[: MAX_TASK_CHARS - 1] + "…"
        table.add_row(
            agent.agent_id,
            agent.session_id,
            agent.state,
            _outcome(agent.success),
            escape(task),
            ago(agent.created_at),
        )
    console.print(table)


@app.command("show")
def show_agent(
    agent_id: str = typer.Argument(..., help="Id of the agent."),
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Show an agent's task, state, answer and every step as a table."""
    with connect(server, api_key) as client, reported_errors(client.server_url):
        agent = client.agents.status(agent_id)
    console.print(f"[bold]Agent[/] {agent.agent_id} · session {agent.session_id}")
    console.print(f"[bold]Task:[/] {escape(agent.task)}")
    if agent.url:
        console.print(f"[bold]URL:[/] {escape(agent.url)}")
    started = ago(agent.created_at)
    console.print(f"[bold]State:[/] {agent.state} · success {_outcome(agent.success)} · started {started}")
    if agent.steps:
        console.print(steps_table(agent.steps))
    else:
        console.print("[dim]No steps yet.[/]")
    if agent.answer is not None:
        console.print(f"[bold]Answer:[/] {escape(agent.answer)}")


@app.command("stop")
def stop_agent(
    agent_id: str = typer.Argument(..., help="Id of the agent to stop."),
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Stop a running agent. It finishes its current action first."""
    with connect(server, api_key) as client, reported_errors(client.server_url):
        agent = client.agents.stop(agent_id)
    detail = f": {escape(agent.answer)}" if agent.answer else ""
    console.print(f"Agent {agent.agent_id} is {agent.state}{detail}")


@app.command("replay")
def replay_agent(
    agent_id: str = typer.Argument(..., help="Id of a finished agent."),
    output: Path = typer.Option(Path("run.mp4"), "--output", "-o", help="Where to save the MP4."),
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Save a finished agent's run as an MP4 video (idle gaps shortened)."""
    with connect(server, api_key) as client, reported_errors(client.server_url):
        output.write_bytes(client.agents.replay(agent_id))
    console.print(f"Saved the replay of agent {agent_id} to {output}")
