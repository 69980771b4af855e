"""``lanterna run "TASK"``: run one agent and watch its steps live, on a server or in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

import typer

from lanterna.cli.console import console, err_console, fail, reported_errors
from lanterna.cli.live import LiveRunView, RunResult
from lanterna.cli.local import LocalServer
from lanterna.cli.remote import ApiKeyOption, connect
from lanterna.config import Settings, get_settings

if TYPE_CHECKING:
    from lanterna.sdk import Agent, AgentStatus

CLOCK_INTERVAL_S = 0.5  # how often the spinner's elapsed time is redrawn
OFFLINE_MODELS = ("offline", "scripted")


def check_model(model: str, settings: Settings) -> None:
    """Exit with a clear message when the model cannot work here (unknown provider, missing key)."""
    if model in OFFLINE_MODELS:
        return
    from lanterna.errors import InvalidRequestError
    from lanterna.reasoners.providers import resolve_endpoint

    try:
        endpoint = resolve_endpoint(model, settings)
    except InvalidRequestError as exc:
        fail(exc.message)
    if endpoint.missing_key:
        fail(
            f"model {model!r} needs an API key: set {endpoint.missing_key}",
            "or run without a model (LANTERNA_MODEL=offline) to use the offline reasoner",
        )


def check_chromium(settings: Settings) -> None:
    """Exit with a clear message when no Chromium can be found for an in-process server."""
    from lanterna.browser.chromium import find_chromium

    with reported_errors():
        find_chromium(settings)


@contextmanager
def start_local_server(settings: Settings, model: str | None) -> Iterator[LocalServer]:
    """Check the model and Chromium, then run a temporary server in this process."""
    check_model(model or settings.model, settings)
    check_chromium(settings)
    with ExitStack() as stack:
        with console.status("[dim]starting a local lanterna server…[/]"), reported_errors():
            local = stack.enter_context(LocalServer(settings))
        yield local


def run_live(
    *,
    server_url: str | None,
    api_key: str | None,
    task: str,
    url: str | None,
    model: str | None,
    max_steps: int,
    timeout_s: float,
) -> RunResult:
    """Start one agent in a new session, print its steps as they come, and return its final status.

    Ctrl-C or the timeout stop the agent (it finishes its current action); the session is closed.
    """
    with (
        connect(server_url, api_key) as client,
        reported_errors(client.server_url),
        client.Session() as session,
    ):
        agent = client.Agent(session=session, max_steps=max_steps, reasoning_model=model)
        agent.start(task=task, url=url)
        with LiveRunView(console, max_steps=max_steps) as view:
            status = _follow(agent, view, timeout_s)
            view.show_result(status)
    return status


def _follow(agent: Agent, view: LiveRunView, timeout_s: float) -> AgentStatus:
    """Show each step as the agent's live log delivers it, until it ends; stop it on timeout or Ctrl-C."""
    try:
        return asyncio.run(_show_steps(agent, view, timeout_s))
    except TimeoutError:
        err_console.print(f"[yellow]timed out after {timeout_s:.0f} s; stopping the agent[/]")
        return agent.stop()
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted; stopping the agent[/]")
        return agent.stop()


async def _show_steps(agent: Agent, view: LiveRunView, timeout_s: float) -> AgentStatus:
    clock = asyncio.create_task(_keep_time(view))
    try:
        async with asyncio.timeout(timeout_s):
            async for step in agent.steps():
                view.show_step(step)
    finally:
        clock.cancel()
    return agent.last_status or await agent.astatus()


async def _keep_time(view: LiveRunView) -> None:
    """Refresh the elapsed time under the spinner while the agent thinks."""
    while True:
        await asyncio.sleep(CLOCK_INTERVAL_S)
        view.tick()


def run(
    task: str = typer.Argument(
        ..., help='What the agent should do, e.g. "Go to example.com and find the email".'
    ),
    url: str | None = typer.Option(None, "--url", help="Page to open before the first step."),
    model: str | None = typer.Option(
        None, "--model", help="Reasoning model, 'provider/model' or 'offline' (default: LANTERNA_MODEL)."
    ),
    max_steps: int = typer.Option(20, "--max-steps", min=1, max=200, help="Give up after this many steps."),
    server: str | None = typer.Option(
        None,
        "--server",
        envvar="LANTERNA_API_URL",
        help="URL of a running lanterna server. Without it, a temporary server runs in this process.",
        show_default=False,
    ),
    api_key: ApiKeyOption = None,
    timeout: float = typer.Option(600.0, "--timeout", min=1, help="Stop the agent after this many seconds."),
) -> None:
    """Run an agent on a task and show each step live. Exit code 0 when it succeeds."""
    with ExitStack() as stack:
        if server:
            server_url, key = server, api_key
        else:
            local = stack.enter_context(start_local_server(get_settings(), model))
            server_url, key, model = local.url, local.api_key, model or local.settings.model
        result = run_live(
            server_url=server_url,
            api_key=key,
            task=task,
            url=url,
            model=model,
            max_steps=max_steps,
            timeout_s=timeout,
        )
    raise typer.Exit(code=0 if result.success else 1)
