"""Finding the Chromium binary and launching one headless browser process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from lanterna.browser.egress import BROWSER_SERVICE_HOSTS
from lanterna.browser.profile import wait_until_exited
from lanterna.config import Settings
from lanterna.errors import ChromiumNotFoundError, LanternaError

SYSTEM_CHROMIUM = "/usr/bin/chromium"
DEFAULT_WINDOW = (1280, 720)
LAUNCH_TIMEOUT_S = 30.0
BROWSER_SERVICE_URLS = {
    "gaia-url": BROWSER_SERVICE_HOSTS[0],
    "google-apis-url": BROWSER_SERVICE_HOSTS[1],
    "lso-url": BROWSER_SERVICE_HOSTS[2],
    "component-updater=url-source": BROWSER_SERVICE_HOSTS[3],
}
# For a browser driven by a program: background tabs keep running their timers, script-opened
# tabs are allowed, and no start-up work or network traffic serves a human user.
AUTOMATION_ARGS = (
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-popup-blocking",
    "--disable-prompt-on-repost",
    "--disable-hang-monitor",
    "--disable-search-engine-choice-screen",
    "--no-service-autorun",
    "--metrics-recording-only",
    "--password-store=basic",
    "--mute-audio",
    "--disable-features=Translate,MediaRouter,OptimizationHints,LensOverlay,PaintHolding,HttpsUpgrades,"
    "NetworkTimeServiceQuerying,AimEnabled,PreconnectToSearch,AvoidUnnecessaryBeforeUnloadCheckSync,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions,"
    "SafeBrowsingRealTimeUrlChecks,DialMediaRouteProvider,GlobalMediaControls,AcceptCHFrame",
    # No request the tenant did not cause: no Google services, pings, reporting or field trials.
    "--disable-client-side-phishing-detection",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-field-trial-config",
    "--no-pings",
    "--safebrowsing-disable-auto-update",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    # The browser's own account and update calls go to names that never resolve (RFC 6761):
    # the proxy refuses them without a lookup, so nothing leaves the machine.
    *(f"--{flag}=https://{host}" for flag, host in BROWSER_SERVICE_URLS.items()),
)


def _playwright_chromium() -> str | None:
    """The newest Chromium that ``playwright install chromium`` downloaded, if any.

    Looked up on disk rather than through Playwright's driver, which cannot run inside an event loop.
    """
    env = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    root = Path(env) if env and env != "0" else Path.home() / ".cache" / "ms-playwright"
    patterns = ("chromium-*/chrome-linux*/chrome", "chromium_headless_shell-*/chrome-*/headless_shell")
    found = [p for pattern in patterns for p in root.glob(pattern) if os.access(p, os.X_OK)]
    return str(max(found, key=lambda p: p.stat().st_mtime)) if found else None


def find_chromium(settings: Settings) -> str:
    """Path of the Chromium to run: ``LANTERNA_CHROMIUM``, the system one, PATH, or Playwright's.

    Raises ``ChromiumNotFoundError`` saying what to install when none is found.
    """
    if settings.chromium:
        if os.access(settings.chromium, os.X_OK):
            return settings.chromium
        raise ChromiumNotFoundError(
            f"LANTERNA_CHROMIUM={settings.chromium} is not an executable file; "
            "point it at a Chromium binary or unset it"
        )
    if os.access(SYSTEM_CHROMIUM, os.X_OK):
        return SYSTEM_CHROMIUM
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    found = _playwright_chromium()
    if found:
        return found
    raise ChromiumNotFoundError(
        "no Chromium found: install one (`apt-get install -y chromium` or "
        "`python -m playwright install chromium`) or set LANTERNA_CHROMIUM to its path"
    )


def chromium_command(
    binary: str,
    profile_dir: Path,
    settings: Settings,
    *,
    extra_args: list[str] | None = None,
    window: tuple[int, int] = DEFAULT_WINDOW,
    user_agent: str | None = None,
    proxy_url: str | None = None,
) -> list[str]:
    """The full command line of one headless browser with a loopback debugging socket.

    With ``proxy_url`` every request goes through that proxy, loopback included (Chromium
    bypasses proxies for loopback unless told ``<-loopback>``)."""
    proxy = [f"--proxy-server={proxy_url}", "--proxy-bypass-list=<-loopback>"] if proxy_url else []
    args = [
        binary,
        "--headless=new",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile_dir}",
        f"--window-size={window[0]},{window[1]}",
        *AUTOMATION_ARGS,
        # Back/forward from the cache fires no load events: history actions would wait in vain.
        "--disable-back-forward-cache",
        *settings.chromium_arg_list,
        *proxy,
    ]
    if user_agent:
        args.append(f"--user-agent={user_agent}")
    args.extend(extra_args or [])
    args.append("about:blank")
    return args


@dataclass
class ChromiumProcess:
    """A running browser: its process (leader of its own process group) and debugging endpoint."""

    process: asyncio.subprocess.Process
    profile_dir: Path
    port: int
    ws_path: str
    uid: int | None = None  # its own unprivileged user, when isolated

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def cdp_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.ws_path}"

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def launch_chromium(
    command: list[str], profile_dir: Path, *, env: dict[str, str] | None = None
) -> ChromiumProcess:
    """Start Chromium in a new process group and wait until its debugging port is known.

    ``env`` is its whole environment (default: this process's, with the profile's config home)."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # own process group: release kills renderers and helpers too
        # The crash handler leaves the process group; this puts the profile path in its command
        # line so that release and the orphan sweep can find it.
        env=env if env is not None else {**os.environ, "XDG_CONFIG_HOME": str(profile_dir / "config")},
    )
    port_file = profile_dir / "DevToolsActivePort"
    deadline = time.monotonic() + LAUNCH_TIMEOUT_S
    try:
        while True:
            if process.returncode is not None:
                raise LanternaError(
                    f"Chromium exited with code {process.returncode} at start-up; "
                    f"try running `{command[0]} --headless=new about:blank` to see why"
                )
            lines = port_file.read_text().splitlines() if port_file.exists() else []
            if len(lines) >= 2 and lines[0].isdigit():
                return ChromiumProcess(process, profile_dir, int(lines[0]), lines[1])
            if time.monotonic() > deadline:
                raise LanternaError(
                    f"Chromium did not open its debugging port within {LAUNCH_TIMEOUT_S:.0f} s"
                )
            await asyncio.sleep(0.01)
    except BaseException:
        await kill_process_group(process, grace_s=0)
        raise


async def kill_process_group(process: asyncio.subprocess.Process, *, grace_s: float = 0.2) -> None:
    """SIGTERM the browser's process group, SIGKILL it after ``grace_s``, and reap the leader."""
    pgid = process.pid  # leader of its own session, so pgid == pid
    if process.returncode is None and grace_s > 0:
        _signal_group(pgid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), timeout=grace_s)
    helpers = _children(pgid)
    # Always SIGKILL the group: helpers may outlive the leader.
    _signal_group(pgid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), timeout=5)
    # A killed process takes a moment to exit: return only once none of the group still runs.
    await asyncio.to_thread(wait_until_exited, helpers, GROUP_EXIT_TIMEOUT_S)


GROUP_EXIT_TIMEOUT_S = 2.0


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
