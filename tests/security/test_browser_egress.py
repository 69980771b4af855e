"""A hostile tenant's browser against the host: files, browser internals, DevTools ports, the server.

Each test attacks the way a tenant can — our actions, Playwright driving the page directly (as
raw CDP through the relay would), page JavaScript, links and redirects — and checks the attack
fails with a message that says why. Only loopback is contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import psutil
import pytest
from playwright.async_api import Error as PlaywrightError

from lanterna.actions.execute import execute
from lanterna.browser import BrowserPool, BrowserSession
from lanterna.browser.sandbox import Isolation
from lanterna.models.actions import Goto, GotoNewTab
from tests.fixtures.engine import browser_profile_root, engine_settings

SECRET_FILE = "/etc/hostname"


class _Site(BaseHTTPRequestHandler):
    """Pages a hostile tenant would serve: a redirect and a link to file:, a page probing ports."""

    def do_GET(self) -> None:
        if self.path == "/redirect-to-file":
            self.send_response(302)
            self.send_header("Location", f"file://{SECRET_FILE}")
            self.end_headers()
            return
        body = {
            "/link-to-file": f'<a id="l" href="file://{SECRET_FILE}">host file</a>',
            "/iframe-file": f'<iframe id="f" src="file://{SECRET_FILE}"></iframe>',
        }.get(self.path, "<p>hello</p>")
        data = f"<!doctype html><title>t</title>{body}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
async def pool() -> AsyncIterator[BrowserPool]:
    pool = BrowserPool(engine_settings(), size=0, profile_root=browser_profile_root(), server_ports={1})
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(scope="module")
async def victim(pool: BrowserPool) -> AsyncIterator[BrowserSession]:
    """Another tenant's session, with a tab the attacker will try to see and close."""
    session = await pool.acquire()
    await session.page.goto("data:text/html,<title>victim</title>")
    yield session
    await pool.release(session)


@pytest.fixture
async def attacker(pool: BrowserPool) -> AsyncIterator[BrowserSession]:
    session = await pool.acquire()
    yield session
    await pool.release(session)


def _blocked(exc: PlaywrightError) -> bool:
    return "ERR_BLOCKED_BY_ADMINISTRATOR" in str(exc) or "ERR_ABORTED" in str(exc)


@pytest.mark.parametrize(
    "url",
    [
        f"file://{SECRET_FILE}",
        f"view-source:file://{SECRET_FILE}",
        "chrome://version",
        "chrome://settings",
        "devtools://devtools/bundled/inspector.html",
        "chrome-extension://abc/x.html",
    ],
)
async def test_goto_to_host_files_and_browser_internals_fails_saying_why(
    attacker: BrowserSession, url: str
) -> None:
    for action in (Goto(url=url), GotoNewTab(url=url)):
        result = await execute(attacker, action)
        assert not result.success
        assert "egress policy refused" in result.message and "scheme" in result.message
    assert not attacker.page.url.startswith(("file:", "chrome:", "view-source:", "devtools:"))


@pytest.mark.parametrize("url", [f"file://{SECRET_FILE}", "chrome://version", "view-source:http://x.test/"])
async def test_the_browser_itself_blocks_them_without_our_action_checks(
    pool: BrowserPool, attacker: BrowserSession, url: str
) -> None:
    """What raw CDP would do: navigate the page directly. The managed browser policy stops it."""
    if pool.sandbox.isolation is Isolation.NONE:
        pytest.skip("no mount namespace on this platform: the browser policy layer is off")
    with pytest.raises(PlaywrightError) as caught:
        await attacker.page.goto(url)
    assert _blocked(caught.value)
    assert not attacker.page.url.startswith(("file:", "chrome:"))


async def test_a_link_a_redirect_or_an_iframe_to_a_host_file_loads_nothing(
    attacker: BrowserSession, site: str
) -> None:
    secret = Path(SECRET_FILE).read_text().strip()
    with pytest.raises(PlaywrightError):
        await attacker.page.goto(f"{site}/redirect-to-file")
    with contextlib.suppress(PlaywrightError):  # the error page commits a moment later
        await attacker.page.wait_for_url("chrome-error://**", timeout=2000)
    assert not attacker.page.url.startswith("file:")

    await attacker.page.goto(f"{site}/link-to-file")
    await attacker.page.click("#l")
    await attacker.page.wait_for_timeout(300)  # a blocked link navigates nowhere: nothing to wait for
    assert attacker.page.url.endswith("/link-to-file")

    await attacker.page.goto(f"{site}/iframe-file")
    frame_text = await attacker.page.evaluate(
        "() => { try { return document.getElementById('f').contentDocument.body.innerText } "
        "catch (e) { return 'denied' } }"
    )
    assert secret not in frame_text


async def test_page_js_cannot_reach_another_browsers_devtools_port(
    attacker: BrowserSession, victim: BrowserSession, site: str
) -> None:
    port = victim.chromium.port
    await attacker.page.goto(site)
    outcome = await attacker.page.evaluate(
        """async (port) => {
            const out = {};
            for (const path of ['/json/list', '/json/version']) {
                try {
                    const r = await fetch(`http://127.0.0.1:${port}${path}`);
                    out[path] = r.status + ':' + (await r.text()).slice(0, 80);
                } catch (e) { out[path] = 'failed' }
            }
            try {
                await fetch(`http://localhost:${port}/json/close/x`, {mode: 'no-cors'});
                out.close = 'sent';
            } catch (e) { out.close = 'failed' }
            out.ws = await new Promise((resolve) => {
                const ws = new WebSocket(`ws://127.0.0.1:${port}/devtools/browser`);
                ws.onopen = () => resolve('open');
                ws.onerror = () => resolve('failed');
            });
            return out;
        }""",
        port,
    )
    assert outcome["ws"] == "failed"
    for path in ("/json/list", "/json/version"):
        assert outcome[path] == "failed" or outcome[path].startswith("403:"), outcome
        assert "devtools" not in outcome[path].lower()
    refused = [r for r in attacker.refusals if r.target.endswith(f":{port}")]
    assert refused and all(r.rule == "protected-port" for r in refused)


async def test_navigating_to_a_devtools_port_cannot_list_or_close_other_tenants_tabs(
    attacker: BrowserSession, victim: BrowserSession
) -> None:
    port = victim.chromium.port
    listing = await execute(attacker, Goto(url=f"http://127.0.0.1:{port}/json/list"))
    assert not listing.success and "protected-port" in listing.message
    targets = await _page_targets(victim)
    for target_id in targets:
        closing = await execute(attacker, Goto(url=f"http://localhost:{port}/json/close/{target_id}"))
        assert not closing.success and "protected-port" in closing.message
    assert await _page_targets(victim) == targets
    assert await victim.page.title() == "victim"


async def _page_targets(session: BrowserSession) -> set[str]:
    cdp = await session.browser.new_browser_cdp_session()
    try:
        infos = (await cdp.send("Target.getTargets"))["targetInfos"]
    finally:
        await cdp.detach()
    return {t["targetId"] for t in infos if t["type"] == "page"}


async def test_the_servers_own_port_and_the_proxies_are_refused(
    pool: BrowserPool, attacker: BrowserSession
) -> None:
    proxy_port = attacker.proxy.port if attacker.proxy else 0
    for port in (1, proxy_port):  # 1 is this pool's stand-in for the server's port
        result = await execute(attacker, Goto(url=f"http://127.0.0.1:{port}/sessions"))
        assert not result.success and "protected-port" in result.message


async def test_chromium_runs_as_its_own_user_with_its_sandbox_and_no_server_secrets(
    pool: BrowserPool, attacker: BrowserSession, victim: BrowserSession
) -> None:
    if pool.sandbox.isolation is not Isolation.USER:
        pytest.skip("per-browser users need lanterna to run as root")
    browser = psutil.Process(attacker.pid)
    uids = {p.uids().real for p in [browser, *browser.children(recursive=True)]}
    assert 0 not in uids and attacker.chromium.uid in uids
    assert attacker.chromium.uid != victim.chromium.uid
    assert "--no-sandbox" not in browser.cmdline()
    environ = Path(f"/proc/{attacker.pid}/environ").read_bytes().decode(errors="replace")
    assert "LANTERNA_" not in environ and "API_KEY" not in environ
    profile = attacker.chromium.profile_dir
    assert profile.stat().st_uid == attacker.chromium.uid and profile.stat().st_mode & 0o077 == 0
    renderers = [p for p in browser.children(recursive=True) if "--type=renderer" in " ".join(p.cmdline())]
    assert renderers
    for renderer in renderers:
        status = Path(f"/proc/{renderer.pid}/status").read_text()
        assert "Seccomp:\t2" in status  # Chromium's seccomp-bpf sandbox is on


async def test_the_browser_cannot_read_the_servers_or_other_tenants_files(
    pool: BrowserPool, attacker: BrowserSession, victim: BrowserSession
) -> None:
    """Even a compromised renderer runs as the browser's user: permissions, not our code, say no."""
    if pool.sandbox.isolation is not Isolation.USER:
        pytest.skip("per-browser users need lanterna to run as root")
    probe = (
        "import os, sys\n"
        "for p in sys.argv[1:]:\n"
        "    try: open(p).read(1); print('READ', p)\n"
        "    except OSError: print('DENIED', p)\n"
    )
    victim_file = victim.chromium.profile_dir / "lanterna-owner.json"
    proc = await asyncio.create_subprocess_exec(
        "setpriv",
        f"--reuid={attacker.chromium.uid}",
        f"--regid={attacker.chromium.uid}",
        "--clear-groups",
        "python3",
        "-c",
        probe,
        str(victim_file),
        "/root/.bashrc",
        str(Path.home() / ".lanterna"),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert "READ" not in out.decode(), out.decode()


async def test_chromium_makes_no_request_the_tenant_did_not_cause(
    attacker: BrowserSession, site: str
) -> None:
    assert attacker.proxy is not None
    await attacker.page.goto(f"{site}/")
    await attacker.page.wait_for_timeout(3000)  # background calls would come in these seconds
    hosts = {t.rpartition(":")[0] for t in attacker.proxy.contacted}
    assert hosts == {"127.0.0.1"}, hosts
    assert not [r for r in attacker.refusals if "google" in r.target], list(attacker.refusals)


def test_policy_file_blocks_what_it_should() -> None:
    from lanterna.browser.sandbox import managed_policy

    policy = managed_policy("http://127.0.0.1:9")
    blocked = policy["URLBlocklist"]
    assert isinstance(blocked, list)
    for scheme in ("file://*", "chrome://*", "devtools://*", "view-source:*"):
        assert scheme in blocked
    assert json.loads(json.dumps(policy))["ProxySettings"]["ProxyBypassList"] == "<-loopback>"
