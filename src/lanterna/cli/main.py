"""The ``lanterna`` command: every subcommand is defined in its own module and registered here."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import typer

from lanterna.cli import agents, bench, demo, keys, run, serve, sessions
from lanterna.cli.console import console

app = typer.Typer(
    name="lanterna",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold API keys
    rich_markup_mode="rich",
)


def _package_version() -> str:
    try:
        return version("lanterna")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        console.print(f"lanterna {_package_version()}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Run LLM web agents in real headless browsers, on your own machine.

    Start with [bold]lanterna demo[/]: it needs no key and no network.
    """


app.command("demo")(demo.demo)
app.command("run")(run.run)
app.add_typer(sessions.app, name="sessions")
app.add_typer(agents.app, name="agents")
app.command("serve")(serve.serve)
app.add_typer(keys.app, name="keys")
app.command("bench")(bench.bench)
