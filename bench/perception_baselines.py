"""Perception baselines from other open-source libraries: notte's fast observe, browser-use's DOM state.

Neither library is a dependency of lanterna, and neither can be told to use Debian's Chromium
through its own launcher, so they live in a separate virtual environment and attach over CDP to a
Chromium this script launches with lanterna's flags. This file uses only the standard library
(plus the two libraries inside that environment): it runs *in* that environment.

Set up once (optional; the perception benchmark reports the baselines as absent otherwise)::

    python3 -m venv .bench-venv && .bench-venv/bin/pip install notte browser-use

The perception benchmark calls ``measure_baselines(...)``, which runs this file with that
environment's Python and reads JSON back. By hand::

    .bench-venv/bin/python bench/perception_baselines.py --pages ../shared/bench-pages \\
        --chromium /usr/bin/chromium --repeats 3

For each library and page: navigate (not timed), then time the library's page-state call
``repeats`` times; report the median and p95, the interactive elements it found and the
characters of the text it would give an LLM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import http.server
import json
import logging
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

LIBRARIES = ("notte", "browser-use")
VENV_ENV = "LANTERNA_BENCH_BASELINE_PYTHON"
REPO_ROOT = Path(__file__).resolve().parent.parent
# External requests fail at once instead of hanging: the saved pages reference the whole web.
HOST_RULES = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
LAUNCH_TIMEOUT_S = 30.0
PAGE_TIMEOUT_S = 120.0

# ----- the caller's side (lanterna's environment) -------------------------------------------


def baseline_python() -> Path | None:
    """The Python of the environment holding the baseline libraries, if one is set up."""
    candidates = [
        os.environ.get(VENV_ENV),
        REPO_ROOT / ".bench-venv/bin/python",
        "/tmp/bench-venv/bin/python",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def measure_baselines(
    pages: Path, chromium: str, chromium_args: list[str], repeats: int, timeout_s: float = 600.0
) -> dict[str, Any]:
    """Run this file in the baselines' environment; ``{"libraries": {name: result}}`` or ``{"error": …}``.

    Each library's result is ``{"version": str, "pages": {file: {"median_ms", "p95_ms",
    "elements", "chars"}}, "error": str | None}``.
    """
    python = baseline_python()
    if python is None:
        return {
            "error": "no environment with the baseline libraries; set one up with "
            "`python3 -m venv .bench-venv && .bench-venv/bin/pip install notte browser-use` "
            f"(or point {VENV_ENV} at its python)"
        }
    command = [
        str(python), str(Path(__file__).resolve()),
        "--pages", str(pages), "--chromium", chromium,
        "--chromium-args", shlex.join(chromium_args), "--repeats", str(repeats),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, cwd=tempfile.gettempdir()
        )
    except subprocess.TimeoutExpired:
        return {"error": f"the baselines did not finish within {timeout_s:.0f} s"}
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-500:]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ----- the baselines' side (their own environment) ------------------------------------------


@contextlib.contextmanager
def serve_pages(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def chromium(binary: str, args: list[str]) -> Iterator[str]:
    """A headless Chromium with a debugging port; yields its ``http://127.0.0.1:<port>`` endpoint."""
    profile = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    process = subprocess.Popen(
        [binary, "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={profile}",
         HOST_RULES, *args, "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + LAUNCH_TIMEOUT_S
        while not (port_file.exists() and port_file.read_text().split("\n")[0].isdigit()):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("Chromium did not open its debugging port")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text().split()[0]}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


Observe = Callable[[], Awaitable[tuple[int, int]]]  # -> (interactive elements, characters)


async def _notte(endpoint: str, urls: list[str], repeats: int) -> dict[str, Any]:
    from notte_browser.session import NotteSession

    session = NotteSession(cdp_url=endpoint, headless=True)
    await session.astart()
    try:

        async def observe() -> tuple[int, int]:
            obs = await session.aobserve()
            return len(obs.space.interaction_actions), len(obs.space.markdown)

        return await _pages(
            lambda url: session.window.page.goto(url, wait_until="load"), observe, urls, repeats
        )
    finally:
        with contextlib.suppress(Exception):
            await session.window.close()


async def _browser_use(endpoint: str, urls: list[str], repeats: int) -> dict[str, Any]:
    from browser_use.browser.session import BrowserSession

    session = BrowserSession(cdp_url=endpoint)
    await session.start()
    try:

        async def observe() -> tuple[int, int]:
            state = await session.get_browser_state_summary(include_screenshot=False)
            dom = state.dom_state
            return len(dom.selector_map), len(dom.llm_representation())

        return await _pages(session.navigate_to, observe, urls, repeats)
    finally:
        with contextlib.suppress(Exception):
            await session.kill()


async def _pages(
    goto: Callable[[str], Awaitable[object]], observe: Observe, urls: list[str], repeats: int
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for url in urls:
        name = url.rsplit("/", 1)[-1]
        try:
            await asyncio.wait_for(goto(url), PAGE_TIMEOUT_S)
            times, elements, chars = [], 0, 0
            for _ in range(repeats):
                start = time.perf_counter()
                elements, chars = await asyncio.wait_for(observe(), PAGE_TIMEOUT_S)
                times.append(time.perf_counter() - start)
            ordered = sorted(times)
            results[name] = {
                "median_ms": statistics.median(times) * 1000,
                "p95_ms": ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000,
                "elements": elements,
                "chars": chars,
            }
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return results


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    pages = sorted(p.name for p in Path(args.pages).glob("*.html"))
    runners = {"notte": _notte, "browser-use": _browser_use}
    out: dict[str, Any] = {"libraries": {}}
    with serve_pages(Path(args.pages)) as base:
        urls = [f"{base}/{name}" for name in pages]
        for library in args.libraries.split(","):
            entry: dict[str, Any] = {"version": _version(library), "pages": {}, "error": None}
            try:
                with chromium(args.chromium, shlex.split(args.chromium_args)) as endpoint:
                    entry["pages"] = await runners[library](endpoint, urls, args.repeats)
            except Exception as exc:
                entry["error"] = f"{type(exc).__name__}: {exc}"[:500]
            out["libraries"][library] = entry
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Perception baselines: notte and browser-use over CDP.")
    parser.add_argument("--pages", required=True, help="folder of saved .html pages")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromium-args", default="--no-sandbox --disable-gpu --no-first-run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--libraries", default=",".join(LIBRARIES))
    args = parser.parse_args()
    # Keep the libraries quiet and offline: no telemetry, no cloud sync, logs to stderr only.
    for name in ("ANONYMIZED_TELEMETRY", "BROWSER_USE_CLOUD_SYNC", "DISABLE_TELEMETRY"):
        os.environ.setdefault(name, "false" if name != "DISABLE_TELEMETRY" else "true")
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    result = asyncio.run(_main(args))
    sys.stdout.write("\n" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
