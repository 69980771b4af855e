"""``lanterna demo``: a whole run on this machine, with no configuration and no network.

It serves the bundled demo shop, starts a temporary lanterna server in this process, and asks an
agent to find the shop's contact email, showing each step as it happens.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from lanterna.cli.console import console
from lanterna.cli.run import run_live, start_local_server
from lanterna.config import get_settings
from lanterna.demo.site import DemoSite
from lanterna.errors import LanternaError
from lanterna.sdk import Client

DEMO_TASK = "Go to {url} and find the contact email"


def demo(
    model: str | None = typer.Option(
        None,
        "--model",
        help="Reasoning model, 'provider/model' (default: LANTERNA_MODEL, else the offline reasoner).",
    ),
    max_steps: int = typer.Option(10, "--max-steps", min=1, max=200, help="Give up after this many steps."),
    timeout: float = typer.Option(300.0, "--timeout", min=1, help="Stop the agent after this many seconds."),
) -> None:
    """Run an agent against the bundled demo shop and show each step live. Exit code 0 on success."""
    settings = get_settings()
    chosen = model or settings.model
    with start_local_server(settings, chosen) as local, DemoSite() as site:
        task = DEMO_TASK.format(url=site.url)
        console.print(f"[bold]lanterna demo[/] · shop at {site.url} · model [cyan]{escape(chosen)}[/]")
        console.print(f"[bold]Task:[/] {escape(task)}")
        console.print()
        result = run_live(
            server_url=local.url,
            api_key=local.api_key,
            task=task,
            url=None,
            model=chosen,
            max_steps=max_steps,
            timeout_s=timeout,
        )
        _save_replay(local.url, local.api_key, result.agent_id, settings.home / "replays")
    raise typer.Exit(code=0 if result.success else 1)


def _save_replay(server_url: str, api_key: str, agent_id: str, folder: Path) -> None:
    """Save the run's replay and say where to watch it again."""
    path = folder / f"agent-{agent_id}.mp4"
    try:
        with Client(api_key=api_key, server_url=server_url) as client:
            mp4 = client.agents.replay(agent_id)
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(mp4)
    except (LanternaError, OSError) as exc:
        console.print(f"[dim]No replay saved: {escape(str(exc))}[/]")
        return
    console.print(f"Watch the run again: [bold]{path}[/]")
    console.print(
        "[dim]Or run `lanterna serve` and open its dashboard at http://127.0.0.1:8000/ "
        "to watch agents live and replay them.[/]"
    )
