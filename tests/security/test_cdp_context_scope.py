"""Raw CDP in context isolation: two tenants' sessions share one Chromium, each sees only its own.

A real server with ``LANTERNA_ISOLATION=context`` puts session A (tenant A) and session B
(tenant B) in two browser contexts of one browser process. Through A's relay — Playwright's
``connect_over_cdp`` or hand-written CDP — A sees and drives only its own pages; every command
that would reach B's targets, another context or the whole process is refused with a CDP error
that says why, and B is unharmed: its page stays where it was, its new pages are not held up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import psutil
import pytest
import websockets
from playwright.async_api import async_playwright

from lanterna.server.cdp_scope import RELAY_IDS_FROM, ContextScope, Expect, LookUp, OutOfScope, Scoped
from tests.fixtures.server import LanternaServer, launch_server
from tests.security.test_cdp_relay import Cdp, tab_target

pytestmark = pytest.mark.timeout(180)

HIT_TIMEOUT_S = 15.0
# A page whose script reports that it ran (``/ran?<query>``), for pages opened with "fresh-".
PAGE = b"""<!doctype html><title>Scoped</title>
<button id="go" onclick="this.textContent='clicked'">Go</button>
<script>if (location.search.includes("fresh-")) fetch("/ran" + location.search)</script>"""


class _Site:
    """A loopback site: ``/page`` is a small page; every path requested is recorded as it arrives."""

    def __init__(self) -> None:
        self.hits: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hit(self.path).set()
                body, kind = PAGE, "text/html"
                self.send_response(200)
                if self.path.startswith("/download/"):  # an attachment named by the path
                    body, kind = b"report\n", "application/octet-stream"
                    name = self.path.rsplit("/", 1)[-1]
                    self.send_header("Content-Disposition", f'attachment; filename="{name}"')
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def hit(self, path: str) -> threading.Event:
        with self.lock:
            return self.hits.setdefault(path, threading.Event())


@pytest.fixture(scope="module")
def site() -> Iterator[_Site]:
    site = _Site()
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture(scope="module")
def context_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanternaServer]:
    # One browser at most, none warmed ahead: every session is a context of the same process.
    env = {
        "LANTERNA_ISOLATION": "context",
        "LANTERNA_CONTEXTS_PER_BROWSER": "4",
        "LANTERNA_POOL_SIZE": "0",
        "LANTERNA_MAX_BROWSERS": "1",
    }
    with launch_server(tmp_path_factory.mktemp("lanterna-context-home"), extra_env=env) as server:
        yield server


class Tenant:
    """One tenant's session in the shared browser: its API client, session id and tab target."""

    def __init__(self, api: httpx.AsyncClient, session_id: str, tab: str) -> None:
        self.api = api
        self.session_id = session_id
        self.tab = tab

    async def cdp_url(self) -> str:
        url: str = (await self.api.get(f"/sessions/{self.session_id}/debug")).json()["ws"]["cdp"]
        return url

    async def url(self) -> str:
        observed = (await self.api.post(f"/sessions/{self.session_id}/page/observe", json={})).json()
        url: str = observed["metadata"]["url"]
        return url


async def _tenant(server: LanternaServer, name: str, site: _Site) -> AsyncIterator[Tenant]:
    async with server.client(server.new_key(name)) as api:
        started = await api.post("/sessions/start", json={})
        assert started.status_code == 200, started.text
        sid: str = started.json()["session_id"]
        try:
            goto = await api.post(
                f"/sessions/{sid}/page/execute", json={"type": "goto", "url": f"{site.url}/page?{name}"}
            )
            assert goto.json()["success"] is True, goto.text
            yield Tenant(api, sid, await tab_target(api, sid))
        finally:
            await api.delete(f"/sessions/{sid}/stop")


@pytest.fixture
async def tenant_a(context_server: LanternaServer, site: _Site) -> AsyncIterator[Tenant]:
    async for tenant in _tenant(context_server, "tenant-a", site):
        yield tenant


@pytest.fixture
async def tenant_b(context_server: LanternaServer, site: _Site, tenant_a: Tenant) -> AsyncIterator[Tenant]:
    async for tenant in _tenant(context_server, "tenant-b", site):
        yield tenant


@contextlib.asynccontextmanager
async def raw_cdp(tenant: Tenant) -> AsyncIterator[Cdp]:
    async with websockets.connect(await tenant.cdp_url(), max_size=None) as ws:
        yield Cdp(ws, tenant.tab)


def browser_processes(server: LanternaServer) -> list[int]:
    """The server's Chromium browser processes (not their renderers, GPU or utility processes)."""
    browsers = []
    for pid in server.chromium_pids():
        with contextlib.suppress(psutil.Error):
            if not any(arg.startswith("--type=") for arg in psutil.Process(pid).cmdline()):
                browsers.append(pid)
    return browsers


@pytest.fixture
async def cdp_a(context_server: LanternaServer, tenant_a: Tenant, tenant_b: Tenant) -> AsyncIterator[Cdp]:
    """A raw CDP connection of session A, once A and B share one browser process."""
    assert len(browser_processes(context_server)) == 1, "A and B do not share one browser process"
    assert (await tenant_b.api.get(f"/sessions/{tenant_b.session_id}")).json()["status"] == "active"
    async with raw_cdp(tenant_a) as a:
        yield a


async def tab_count(tenant: Tenant, until: int | None = None) -> int:
    """How many tabs lanterna lists for the session; with ``until``, once it lists that many (bounded)."""
    async with asyncio.timeout(HIT_TIMEOUT_S):
        while True:
            debug = await tenant.api.get(f"/sessions/{tenant.session_id}/debug")
            assert debug.status_code == 200, debug.text
            count = len(debug.json()["tabs"])
            if until is None or count == until:
                return count
            await asyncio.sleep(0.05)


async def own_context(cdp: Cdp) -> str:
    contexts: list[str] = (await cdp.ok("Target.getBrowserContexts"))["browserContextIds"]
    assert len(contexts) == 1, contexts
    return contexts[0]


async def assert_b_unharmed(b: Tenant, site: _Site) -> None:
    """B's session is active and its page is still where B left it."""
    assert (await b.api.get(f"/sessions/{b.session_id}")).json()["status"] == "active"
    assert await b.url() == f"{site.url}/page?tenant-b"


# ----- what A sees ------------------------------------------------------------------------------


async def test_get_targets_lists_only_the_sessions_own(cdp_a: Cdp, tenant_b: Tenant) -> None:
    context = await own_context(cdp_a)
    targets = (await cdp_a.ok("Target.getTargets"))["targetInfos"]
    assert {t["targetId"] for t in targets if t["type"] == "page"} == {cdp_a.tab}, targets
    assert all(t["browserContextId"] == context for t in targets), targets
    # Discovery reports A's targets only, B's tab never.
    await cdp_a.ok("Target.setDiscoverTargets", {"discover": True})
    created = await cdp_a.event(lambda e: e["method"] == "Target.targetCreated")
    assert created["params"]["targetInfo"]["browserContextId"] == context
    assert not [e for e in cdp_a.events if tenant_b.tab in json.dumps(e)], cdp_a.events


async def test_another_sessions_target_cannot_be_touched(cdp_a: Cdp, tenant_b: Tenant, site: _Site) -> None:
    theirs = tenant_b.tab
    for method, params in (
        ("Target.attachToTarget", {"targetId": theirs, "flatten": True}),
        ("Target.closeTarget", {"targetId": theirs}),
        ("Target.activateTarget", {"targetId": theirs}),
        ("Target.getTargetInfo", {"targetId": theirs}),
        ("Target.autoAttachRelated", {"targetId": theirs, "waitForDebuggerOnStart": False}),
        ("Browser.getWindowForTarget", {"targetId": theirs}),
    ):
        message = await cdp_a.refused(method, params)
        assert "is not one of this session's" in message, message
    # A target id that does not exist gets the same answer: no oracle of other sessions' ids.
    unknown = await cdp_a.refused("Target.attachToTarget", {"targetId": "F" * 32, "flatten": True})
    assert unknown.replace("F" * 32, theirs) == await cdp_a.refused(
        "Target.attachToTarget", {"targetId": theirs, "flatten": True}
    )
    # Nor by a made-up flattened session, nor through the tab endpoint with B's target id.
    await cdp_a.refused("Runtime.evaluate", {"expression": "1"}, session="0" * 32)
    tab_url = await cdp_a.ok("Target.getTargetInfo")  # the browser target answers A
    assert tab_url["targetInfo"]["type"] == "browser"
    await assert_b_unharmed(tenant_b, site)


async def test_tab_endpoint_of_another_sessions_target_is_not_found(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    url = (
        await tenant_a.api.get(f"/sessions/{tenant_a.session_id}/debug/tab", params={"tab_idx": 0})
    ).json()["ws_url"]
    foreign = url.replace(f"/cdp/page/{tenant_a.tab}", f"/cdp/page/{tenant_b.tab}")
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(foreign):
            pass
    assert refused.value.response.status_code == 404
    # A's own tab endpoint works, and is scoped too.
    async with websockets.connect(url) as ws:
        page = Cdp(ws)
        assert await page.evaluate("document.title", None) == "Scoped"
        assert "is not one of this session's" in await page.refused(
            "Target.closeTarget", {"targetId": tenant_b.tab}
        )


async def test_no_context_can_be_created_or_disposed(cdp_a: Cdp, tenant_b: Tenant, site: _Site) -> None:
    context = await own_context(cdp_a)
    for params in ({"proxyServer": "direct://"}, {"proxyServer": "http://127.0.0.1:9"}):
        assert "egress proxy" in await cdp_a.refused("Target.createBrowserContext", params)
    message = await cdp_a.refused("Target.createBrowserContext", {})
    assert "exactly one browser context" in message, message
    assert "lanterna's to close" in await cdp_a.refused(
        "Target.disposeBrowserContext", {"browserContextId": context}
    )
    assert await own_context(cdp_a) == context
    await assert_b_unharmed(tenant_b, site)


async def test_browser_close_is_refused_and_the_browser_lives_on(
    cdp_a: Cdp, tenant_b: Tenant, site: _Site
) -> None:
    for method in ("Browser.close", "Browser.crash", "Browser.crashGpuProcess"):
        assert "DELETE /sessions/{id}/stop" in await cdp_a.refused(method)
    await assert_b_unharmed(tenant_b, site)
    assert "Chrome" in (await cdp_a.ok("Browser.getVersion"))["product"]


async def test_new_targets_land_in_the_sessions_own_context(
    cdp_a: Cdp, tenant_a: Tenant, tenant_b: Tenant, site: _Site
) -> None:
    context = await own_context(cdp_a)
    async with raw_cdp(tenant_b) as cdp_b:
        theirs = await own_context(cdp_b)
    created = await cdp_a.ok("Target.createTarget", {"url": f"{site.url}/page?new"})
    info = (await cdp_a.ok("Target.getTargetInfo", {"targetId": created["targetId"]}))["targetInfo"]
    assert info["browserContextId"] == context
    assert await tab_count(tenant_a, until=2) == 2  # lanterna counts it among A's tabs
    message = await cdp_a.refused("Target.createTarget", {"url": "about:blank", "browserContextId": theirs})
    assert "is not this session's" in message
    await cdp_a.ok("Target.closeTarget", {"targetId": created["targetId"]})
    assert await tab_count(tenant_b) == 1


async def test_browser_wide_commands_are_refused_or_kept_to_the_context(
    cdp_a: Cdp, tenant_b: Tenant, site: _Site
) -> None:
    for method, params in (
        ("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}),  # would pause every context's requests
        ("Network.enable", {}),
        ("Storage.clearDataForOrigin", {"origin": site.url, "storageTypes": "all"}),
        ("Security.setIgnoreCertificateErrors", {"ignore": True}),
    ):
        assert "every browser context" in await cdp_a.refused(method, params)
    assert "shared browser process" in await cdp_a.refused(
        "Memory.simulatePressureNotification", {"level": "critical"}
    )
    assert "shared browser process" in await cdp_a.refused("Tracing.start", {})
    page = await cdp_a.page_session()
    assert "shared browser process" in await cdp_a.refused("Tracing.start", {}, page)
    # Cookies: B's cookie is neither listed nor cleared by A's browser-level calls.
    async with raw_cdp(tenant_b) as cdp_b:
        b_page = await cdp_b.page_session()
        await cdp_b.evaluate("document.cookie = 'b_secret=1; path=/'", b_page)
        await cdp_a.evaluate("document.cookie = 'a_own=1; path=/'", page)
        cookies = (await cdp_a.ok("Storage.getCookies"))["cookies"]
        assert [c["name"] for c in cookies] == ["a_own"], cookies
        await cdp_a.ok("Storage.clearCookies")
        assert await cdp_a.evaluate("document.cookie", page) == ""
        assert await cdp_b.evaluate("document.cookie", b_page) == "b_secret=1"
        # A grant is kept to A's context.
        await cdp_a.ok("Browser.grantPermissions", {"permissions": ["geolocation"], "origin": site.url})
        query = "navigator.permissions.query({name: 'geolocation'}).then(p => p.state)"
        assert await cdp_a.ok(
            "Runtime.evaluate", {"expression": query, "awaitPromise": True, "returnByValue": True}, page
        )
        state = await cdp_b.ok(
            "Runtime.evaluate", {"expression": query, "awaitPromise": True, "returnByValue": True}, b_page
        )
        assert state["result"]["value"] == "prompt"
    await assert_b_unharmed(tenant_b, site)


async def test_page_js_of_one_session_cannot_see_the_others_storage(
    cdp_a: Cdp, tenant_b: Tenant, site: _Site
) -> None:
    page = await cdp_a.page_session()
    await cdp_a.evaluate("localStorage.setItem('a_secret', 'one'); sessionStorage.setItem('a_s', '1')", page)
    await cdp_a.evaluate("document.cookie = 'a_cookie=1; path=/'", page)
    async with raw_cdp(tenant_b) as cdp_b:
        b_page = await cdp_b.page_session()
        seen = await cdp_b.evaluate(
            "JSON.stringify([localStorage.getItem('a_secret'), sessionStorage.getItem('a_s'), "
            "document.cookie])",
            b_page,
        )
    assert json.loads(seen) == [None, None, ""]


async def _download(cdp: Cdp, page: str, site: _Site) -> str:
    """Download a file from ``page`` with events on; the guid once the browser says it completed."""
    name = f"scoped-{uuid.uuid4().hex}.txt"
    await cdp.ok("Browser.setDownloadBehavior", {"behavior": "allow", "eventsEnabled": True})
    await cdp.call("Page.navigate", {"url": f"{site.url}/download/{name}"}, page)  # net::ERR_ABORTED
    began = await cdp.event(
        lambda e: e["method"] == "Browser.downloadWillBegin" and e["params"]["suggestedFilename"] == name
    )
    guid: str = began["params"]["guid"]
    await cdp.event(
        lambda e: (
            e["method"] == "Browser.downloadProgress"
            and e["params"]["guid"] == guid
            and e["params"]["state"] in ("completed", "canceled")
        )
    )
    return guid


async def test_downloads_of_another_session_are_not_reported(
    cdp_a: Cdp, tenant_b: Tenant, site: _Site
) -> None:
    page = await cdp_a.page_session()
    own = await _download(cdp_a, page, site)  # A hears of its own download
    async with raw_cdp(tenant_b) as cdp_b:
        theirs = await _download(cdp_b, await cdp_b.page_session(), site)
    # Chromium sent anything it had for A before answering this.
    await cdp_a.ok("Browser.getVersion")
    reported = {e["params"]["guid"] for e in cdp_a.events if e["method"].startswith("Browser.download")}
    assert reported == {own}, (reported, theirs)


# ----- Playwright -------------------------------------------------------------------------------


async def test_playwright_sees_and_drives_only_its_own_pages(
    context_server: LanternaServer, tenant_a: Tenant, tenant_b: Tenant, site: _Site
) -> None:
    refused_before = context_server.log_path.read_text(errors="replace").count("CDP relay refused")
    async with async_playwright() as pw:
        browser = await pw.chromium.connect_over_cdp(await tenant_a.cdp_url())
        pages = [p for c in browser.contexts for p in c.pages]
        assert [p.url for p in pages] == [f"{site.url}/page?tenant-a"], [p.url for p in pages]
        page = pages[0]
        await page.click("#go")
        assert await page.evaluate("document.querySelector('#go').textContent") == "clicked"
        assert (await page.screenshot())[:8] == b"\x89PNG\r\n\x1a\n"
        second = await browser.contexts[0].new_page()
        await second.goto(f"{site.url}/page?second")
        assert await second.title() == "Scoped"
        await browser.contexts[0].add_cookies([{"name": "pw", "value": "1", "url": site.url}])
        assert [c["name"] for c in await browser.contexts[0].cookies()] == ["pw"]
        await second.close()
        await browser.close()  # disconnects only
    await assert_b_unharmed(tenant_b, site)
    assert (await tenant_a.api.get(f"/sessions/{tenant_a.session_id}")).json()["status"] == "active"
    refused_after = context_server.log_path.read_text(errors="replace").count("CDP relay refused")
    assert refused_after == refused_before, context_server.log_tail()


async def test_another_sessions_new_page_is_not_held_up_by_a_connected_playwright(
    tenant_a: Tenant, tenant_b: Tenant, site: _Site
) -> None:
    async with async_playwright() as pw:
        # Playwright auto-attaches with waitForDebuggerOnStart: Chromium would pause B's new
        # pages for A's client too, were they not let go by the relay.
        browser = await pw.chromium.connect_over_cdp(await tenant_a.cdp_url())
        seen_by_a: list[str] = []
        browser.contexts[0].on("page", lambda p: seen_by_a.append(p.url))
        async with raw_cdp(tenant_b) as cdp_b:
            b_page = await cdp_b.page_session()
            for round_ in range(3):
                # A popup of B's page: Chromium holds such a new page until every client that
                # auto-attached with waitForDebuggerOnStart lets it run.
                query = f"?fresh-{uuid.uuid4().hex}"
                path = f"/page{query}"
                popup = {"expression": f"window.open({path!r}) !== null", "userGesture": True}
                opened = await cdp_b.ok("Runtime.evaluate", {**popup, "returnByValue": True}, b_page)
                assert opened["result"]["value"] is True, opened
                ran = site.hit(f"/ran{query}")  # its script ran: the page was not held paused
                assert await asyncio.to_thread(ran.wait, HIT_TIMEOUT_S), f"B's popup {round_} was held up"
                targets = (await cdp_b.ok("Target.getTargets"))["targetInfos"]
                for target in targets:
                    if target["url"].endswith(path):
                        await cdp_b.ok("Target.closeTarget", {"targetId": target["targetId"]})
        # A's Playwright still works, and never saw B's pages.
        page = browser.contexts[0].pages[0]
        assert await page.title() == "Scoped"
        assert all("fresh-" not in url for url in seen_by_a), seen_by_a
        assert [p.url for p in browser.contexts[0].pages] == [f"{site.url}/page?tenant-a"]
        await browser.close()


# ----- the scope's bookkeeping, message by message (no browser) ---------------------------------

OWN, OTHER = "CTX-A", "CTX-B"


def _info(target: str, context: str, kind: str = "page") -> dict[str, Any]:
    return {"targetId": target, "type": kind, "url": "about:blank", "browserContextId": context}


def _event(method: str, params: dict[str, Any], session: str | None = None) -> str:
    body: dict[str, Any] = {"method": method, "params": params}
    if session is not None:
        body["sessionId"] = session
    return json.dumps(body, separators=(",", ":"))


def test_scope_lets_go_of_another_contexts_target_at_once() -> None:
    scope = ContextScope(OWN)
    attached = {"sessionId": "S-B", "targetInfo": _info("T-B", OTHER), "waitingForDebugger": True}
    inbound = scope.inbound(_event("Target.attachedToTarget", attached))
    assert inbound.to_client is None
    resume, detach = (json.loads(c) for c in inbound.to_browser)
    assert resume["method"] == "Runtime.runIfWaitingForDebugger" and resume["sessionId"] == "S-B"
    assert detach["method"] == "Target.detachFromTarget" and detach["params"] == {"sessionId": "S-B"}
    assert "sessionId" not in detach and min(resume["id"], detach["id"]) >= RELAY_IDS_FROM
    # Their replies, and anything else of that session, never reach the client.
    assert scope.inbound(json.dumps({"id": resume["id"], "result": {}, "sessionId": "S-B"})).to_client is None
    assert scope.inbound(json.dumps({"id": detach["id"], "result": {}})).to_client is None
    assert scope.inbound(_event("Runtime.consoleAPICalled", {"args": []}, "S-B")).to_client is None
    assert scope.inbound(_event("Target.detachedFromTarget", {"sessionId": "S-B"})).to_client is None
    assert isinstance(scope.judge(1, "Runtime.evaluate", {"expression": "1"}, "S-B"), OutOfScope)


def test_scope_passes_its_own_sessions_and_cuts_lists() -> None:
    scope = ContextScope(OWN)
    own = _event("Target.attachedToTarget", {"sessionId": "S-A", "targetInfo": _info("T-A", OWN)})
    assert scope.inbound(own).to_client == own
    # A page's text that looks like another session's id stays the page's own message.
    tricky = _event("Runtime.consoleAPICalled", {"text": ',"sessionId":"S-B"}'}, "S-A")
    assert scope.inbound(tricky).to_client == tricky
    assert isinstance(scope.judge(2, "Target.getTargets", {}, None), Scoped)
    scope.expect(None, 2, Expect.TARGETS)
    reply = {"id": 2, "result": {"targetInfos": [_info("T-A", OWN), _info("T-B", OTHER)]}}
    cut = json.loads(scope.inbound(json.dumps(reply)).to_client or "")
    assert [t["targetId"] for t in cut["result"]["targetInfos"]] == ["T-A"]
    scope.expect(None, 3, Expect.CONTEXTS)
    contexts = json.loads(
        scope.inbound(json.dumps({"id": 3, "result": {"browserContextIds": [OTHER, OWN]}})).to_client or ""
    )
    assert contexts["result"] == {"browserContextIds": [OWN]}
    assert isinstance(scope.judge(4, "Target.closeTarget", {"targetId": "T-B"}, None), OutOfScope)
    assert isinstance(scope.judge(5, "Target.closeTarget", {"targetId": "T-A"}, None), Scoped)
    assert scope.judge(6, "Target.closeTarget", {"targetId": "T-NEW"}, None) == LookUp("T-NEW")
    scope.learn("T-NEW", None)  # no such target: refused, and not remembered
    assert isinstance(scope.judge(6, "Target.closeTarget", {"targetId": "T-NEW"}, None), OutOfScope)
    assert "T-NEW" not in scope.targets


def test_scope_forces_the_own_context_and_keeps_the_relays_ids() -> None:
    scope = ContextScope(OWN)
    forced = scope.judge(1, "Storage.getCookies", {}, None)
    assert isinstance(forced, Scoped) and forced.params == {"browserContextId": OWN}
    assert isinstance(
        scope.judge(2, "Target.createTarget", {"url": "", "browserContextId": OTHER}, None), OutOfScope
    )
    for call_id in (RELAY_IDS_FROM, -1):  # the relay's ids; a reply to -1 would escape its bookkeeping
        assert isinstance(scope.judge(call_id, "Browser.getVersion", {}, None), OutOfScope)
    for odd in ({"sessionId": ["x"]}, {"windowId": [1]}, {"windowId": 1.0}, {"targetId": {"a": 1}}):
        assert isinstance(scope.judge(4, "Target.detachFromTarget", odd, None), OutOfScope), odd
    assert isinstance(scope.judge(3, "Network.enable", {}, None), OutOfScope)  # on the browser target


def test_scope_reports_only_its_own_downloads() -> None:
    scope = ContextScope(OWN)
    scope.inbound(_event("Target.attachedToTarget", {"sessionId": "S-A", "targetInfo": _info("T-A", OWN)}))
    scope.inbound(_event("Target.targetCreated", {"targetInfo": _info("T-B", OTHER)}))
    theirs = _event(
        "Browser.downloadWillBegin", {"frameId": "T-B", "guid": "g-b", "url": "x", "suggestedFilename": "b"}
    )
    ours = _event(
        "Browser.downloadWillBegin", {"frameId": "T-A", "guid": "g-a", "url": "x", "suggestedFilename": "a"}
    )
    assert scope.inbound(theirs).to_client is None
    assert scope.inbound(ours).to_client == ours
    assert (
        scope.inbound(_event("Browser.downloadProgress", {"guid": "g-b", "state": "completed"})).to_client
        is None
    )
    done = _event("Browser.downloadProgress", {"guid": "g-a", "state": "completed"})
    assert scope.inbound(done).to_client == done
