"""Raw CDP through ``/sessions/{id}/cdp`` as an attacker would send it, against a real server.

Each vector is refused with a CDP error for its ``id`` that says why and what to do instead,
and the attack has no effect: the page is not on file:, no host file is handed to the page or
written, the browser keeps its egress proxy and stays alive. Playwright's ``connect_over_cdp``
keeps working through the same relay.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import shutil
import socket
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from playwright.async_api import async_playwright
from websockets.asyncio.client import ClientConnection

from tests.fixtures.server import LanternaServer

pytestmark = pytest.mark.timeout(180)

REPLY_TIMEOUT_S = 15.0
UPLOAD_PAGE = b"""<!doctype html><title>Upload</title>
<input id="doc" type="file"><button id="go" onclick="this.textContent='clicked'">Go</button>"""


class _Handler(BaseHTTPRequestHandler):
    """``/upload``: a page with a file input; ``/download/<name>``: an attachment called <name>."""

    def do_GET(self) -> None:
        if self.path.startswith("/download/"):
            body, headers = (
                b"secret-free,report\n",
                {
                    "Content-Type": "application/octet-stream",
                    "Content-Disposition": f'attachment; filename="{self.path.rsplit("/", 1)[-1]}"',
                },
            )
        else:
            body, headers = UPLOAD_PAGE, {"Content-Type": "text/html"}
        self.send_response(200)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Cdp:
    """One raw CDP connection: ``call`` waits for its own reply; events are kept for ``event``."""

    def __init__(self, ws: ClientConnection, tab: str = "") -> None:
        self.ws = ws
        self.tab = tab  # the target id of the session's tab
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    async def send_raw(self, frame: str | bytes) -> dict[str, Any]:
        """Send any frame; the next reply that is not an event."""
        await self.ws.send(frame)
        return await self._reply(lambda message: "id" in message)

    async def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self.next_id += 1
        call_id = self.next_id
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        await self.ws.send(json.dumps(message))
        return await self._reply(lambda reply: reply.get("id") == call_id)

    async def ok(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        reply = await self.call(method, params, session)
        assert "error" not in reply, reply
        result: dict[str, Any] = reply["result"]
        return result

    async def refused(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> str:
        """Send a command that must be refused; the refusal's message."""
        reply = await self.call(method, params, session)
        assert "result" not in reply, reply
        assert reply["id"] == self.next_id and reply.get("sessionId") == session, reply
        assert reply["error"]["code"] == -32000, reply
        message: str = reply["error"]["message"]
        assert message.startswith(f"lanterna refused {method}: "), message
        return message

    async def event(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        for seen in self.events:
            if predicate(seen):
                return seen
        return await self._reply(lambda message: "method" in message and predicate(message))

    async def _reply(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async with asyncio.timeout(REPLY_TIMEOUT_S):
            while True:
                message: dict[str, Any] = json.loads(await self.ws.recv())
                if "method" in message:
                    self.events.append(message)
                if predicate(message):
                    return message

    async def evaluate(self, expression: str, session: str | None) -> Any:
        result = await self.ok("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        return result["result"].get("value")

    async def page_session(self) -> str:
        """A flattened session on the session's tab."""
        attached = await self.ok("Target.attachToTarget", {"targetId": self.tab, "flatten": True})
        session: str = attached["sessionId"]
        return session


@pytest.fixture(scope="module")
def api_key(lanterna_server: LanternaServer) -> str:
    return lanterna_server.new_key("cdp-relay")


@pytest.fixture
async def api(lanterna_server: LanternaServer, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    async with lanterna_server.client(api_key) as client:
        yield client


@pytest.fixture
async def session_id(api: httpx.AsyncClient, site: str) -> AsyncIterator[str]:
    started = await api.post("/sessions/start", json={})
    assert started.status_code == 200, started.text
    sid: str = started.json()["session_id"]
    goto = await api.post(f"/sessions/{sid}/page/execute", json={"type": "goto", "url": f"{site}/upload"})
    assert goto.json()["success"] is True, goto.text
    yield sid
    await api.delete(f"/sessions/{sid}/stop")


async def tab_target(api: httpx.AsyncClient, session_id: str) -> str:
    """The CDP target id of the session's tab, from ``GET /sessions/{id}/debug/tab``."""
    tab = (await api.get(f"/sessions/{session_id}/debug/tab", params={"tab_idx": 0})).json()
    target: str = tab["ws_url"].split("?")[0].rsplit("/", 1)[-1]
    return target


@pytest.fixture
async def cdp(api: httpx.AsyncClient, session_id: str) -> AsyncIterator[Cdp]:
    url = (await api.get(f"/sessions/{session_id}/debug")).json()["ws"]["cdp"]
    async with websockets.connect(url, max_size=None) as ws:
        yield Cdp(ws, await tab_target(api, session_id))


async def assert_unharmed(cdp: Cdp, api: httpx.AsyncClient, session_id: str, site: str) -> None:
    """The browser answers, the session is active and its page is still the test page."""
    assert "Chrome" in (await cdp.ok("Browser.getVersion"))["product"]
    assert (await api.get(f"/sessions/{session_id}")).json()["status"] == "active"
    observed = (await api.post(f"/sessions/{session_id}/page/observe", json={})).json()
    assert observed["metadata"]["url"] == f"{site}/upload"


# ----- navigation ------------------------------------------------------------------------------


async def test_navigate_to_a_host_file_is_refused(
    cdp: Cdp, api: httpx.AsyncClient, session_id: str, site: str
) -> None:
    # Without a page session the browser target has no Page domain, but the relay answers first.
    assert "file scheme" in await cdp.refused("Page.navigate", {"url": "file:///etc/passwd"})
    page = await cdp.page_session()
    message = await cdp.refused("Page.navigate", {"url": "file:///etc/passwd"}, page)
    assert "egress policy" in message and "file" in message
    for disguised in (" FILE:///etc/passwd", "fi\tle:///etc/passwd"):
        await cdp.refused("Page.navigate", {"url": disguised}, page)
    assert await cdp.evaluate("location.href", page) == f"{site}/upload"
    await assert_unharmed(cdp, api, session_id, site)


async def test_navigate_through_the_tab_endpoint_is_refused(
    api: httpx.AsyncClient, session_id: str, site: str
) -> None:
    tab = (await api.get(f"/sessions/{session_id}/debug/tab", params={"tab_idx": 0})).json()
    async with websockets.connect(tab["ws_url"]) as ws:
        page = Cdp(ws)
        assert "file scheme" in await page.refused("Page.navigate", {"url": "file:///etc/passwd"})
        await page.refused("Target.exposeDevToolsProtocol", {"targetId": await tab_target(api, session_id)})
        assert await page.evaluate("location.href", None) == f"{site}/upload"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("view-source:file:///etc/passwd", "view-source scheme"),
        ("chrome://version", "chrome scheme"),
        ("about:version", "only about:blank and about:srcdoc"),
        ("chrome://settings", "chrome scheme"),
    ],
)
async def test_browser_pages_and_view_source_are_refused(
    cdp: Cdp, api: httpx.AsyncClient, session_id: str, site: str, url: str, says: str
) -> None:
    page = await cdp.page_session()
    assert says in await cdp.refused("Page.navigate", {"url": url}, page)
    assert await cdp.evaluate("location.href", page) == f"{site}/upload"


async def test_new_tab_on_a_file_url_is_refused(
    cdp: Cdp, api: httpx.AsyncClient, session_id: str, site: str
) -> None:
    assert "file scheme" in await cdp.refused("Target.createTarget", {"url": "file:///etc/passwd"})
    targets = (await cdp.ok("Target.getTargets"))["targetInfos"]
    assert not [t for t in targets if t["url"].startswith("file:")], targets


async def test_load_network_resource_of_a_file_is_refused(cdp: Cdp, session_id: str) -> None:
    page = await cdp.page_session()
    frame = (await cdp.ok("Page.getFrameTree", session=page))["frameTree"]["frame"]["id"]
    params = {
        "frameId": frame,
        "url": "file:///etc/passwd",
        "options": {"disableCache": True, "includeCredentials": False},
    }
    assert "file scheme" in await cdp.refused("Network.loadNetworkResource", params, page)


# ----- escaping the egress proxy and the relay ---------------------------------------------------


async def test_browser_context_with_its_own_proxy_is_refused(cdp: Cdp) -> None:
    before = (await cdp.ok("Target.getBrowserContexts"))["browserContextIds"]
    for params in ({"proxyServer": "direct://"}, {"proxyServer": ""}, {"proxyBypassList": "<-loopback>"}):
        message = await cdp.refused("Target.createBrowserContext", params)
        assert "egress proxy" in message and "without them" in message
    assert (await cdp.ok("Target.getBrowserContexts"))["browserContextIds"] == before
    # Without them a context is fine (and is disposed again).
    created = await cdp.ok("Target.createBrowserContext", {"disposeOnDetach": True})
    await cdp.ok("Target.disposeBrowserContext", {"browserContextId": created["browserContextId"]})


async def test_expose_devtools_protocol_is_refused(cdp: Cdp, session_id: str) -> None:
    page = await cdp.page_session()
    message = await cdp.refused("Target.exposeDevToolsProtocol", {"targetId": cdp.tab, "bindingName": "cdp"})
    assert "unfiltered" in message
    assert await cdp.evaluate("typeof window.cdp", page) == "undefined"


async def test_remote_locations_are_refused(cdp: Cdp) -> None:
    message = await cdp.refused(
        "Target.setRemoteLocations", {"locations": [{"host": "127.0.0.1", "port": 9222}]}
    )
    assert "this relay is the only way in" in message


async def test_nested_messages_are_refused(
    cdp: Cdp, api: httpx.AsyncClient, session_id: str, site: str
) -> None:
    target = cdp.tab
    nested = json.dumps({"id": 1, "method": "Page.navigate", "params": {"url": "file:///etc/passwd"}})
    assert "flatten: true" in await cdp.refused("Target.attachToTarget", {"targetId": target})
    message = await cdp.refused("Target.sendMessageToTarget", {"targetId": target, "message": nested})
    assert "cannot be checked" in message
    await assert_unharmed(cdp, api, session_id, site)


async def test_tethering_bind_is_refused(cdp: Cdp) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert "listening ports" in await cdp.refused("Tethering.bind", {"port": port})
    with socket.socket() as client, pytest.raises(ConnectionRefusedError):
        client.settimeout(5)
        client.connect(("127.0.0.1", port))


async def test_browser_close_is_refused(cdp: Cdp, api: httpx.AsyncClient, session_id: str, site: str) -> None:
    for method in ("Browser.close", "Browser.crash"):
        assert "DELETE /sessions/{id}/stop" in await cdp.refused(method)
    await assert_unharmed(cdp, api, session_id, site)


async def test_the_browsers_own_pages_cannot_be_scripted(
    cdp: Cdp, api: httpx.AsyncClient, session_id: str
) -> None:
    targets = (await cdp.ok("Target.getTargets"))["targetInfos"]
    own = [t for t in targets if t["url"].startswith(("chrome://", "chrome-untrusted://", "devtools://"))]
    if not own:
        pytest.skip("this Chromium shows no page of its own to attach to")
    attached = await cdp.ok("Target.attachToTarget", {"targetId": own[0]["targetId"], "flatten": True})
    message = await cdp.refused("Runtime.evaluate", {"expression": "1"}, attached["sessionId"])
    assert "one of the browser's own pages" in message
    await cdp.ok("Target.detachFromTarget", {"sessionId": attached["sessionId"]})
    # Nor through the tab endpoint, straight at that target.
    tab = (await api.get(f"/sessions/{session_id}/debug/tab", params={"tab_idx": 0})).json()
    url = tab["ws_url"].replace(f"/cdp/page/{cdp.tab}", f"/cdp/page/{own[0]['targetId']}")
    async with websockets.connect(url) as ws:
        assert "one of the browser's own pages" in await Cdp(ws).refused(
            "Runtime.evaluate", {"expression": "1"}
        )


# ----- host files ------------------------------------------------------------------------------


def _download_ended(cdp: Cdp, name: str, event: dict[str, Any]) -> bool:
    """``event`` says the download of ``name`` completed or was canceled."""
    if event["method"] != "Browser.downloadProgress" or event["params"]["state"] not in (
        "completed",
        "canceled",
    ):
        return False
    return any(
        began["method"] == "Browser.downloadWillBegin"
        and began["params"]["guid"] == event["params"]["guid"]
        and began["params"]["suggestedFilename"] == name
        for began in cdp.events
    )


@pytest.fixture
def writable_dir() -> Iterator[Path]:
    """A folder anyone may write (the browser's own user too): where an attacker wants a file."""
    path = Path(tempfile.mkdtemp(prefix="lanterna-relay-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_download_path_is_forced_to_the_sessions_downloads(
    cdp: Cdp, api: httpx.AsyncClient, session_id: str, site: str, writable_dir: Path
) -> None:
    page = await cdp.page_session()
    for asked in ("/etc", str(writable_dir)):
        name = f"lanterna-relay-{uuid.uuid4().hex}.csv"
        behavior = {"behavior": "allow", "downloadPath": asked, "eventsEnabled": True}
        await cdp.ok("Browser.setDownloadBehavior", behavior)
        await cdp.call("Page.navigate", {"url": f"{site}/download/{name}"}, page)  # net::ERR_ABORTED
        done = await cdp.event(partial(_download_ended, cdp, name))
        assert not os.path.exists(os.path.join(asked, name)), f"the download was written to {asked}"
        landed = glob.glob(os.path.join(tempfile.gettempdir(), "lanterna-browsers", "*", "downloads", name))
        if done["params"]["state"] == "canceled" and not landed:
            pytest.xfail(
                "the session's downloads folder is not writable by its browser's user (browser layer); "
                "the path asked for was not used"
            )
        assert done["params"]["state"] == "completed", done
        assert len(landed) == 1 and Path(landed[0]).read_bytes() == b"secret-free,report\n", landed
    await cdp.ok("Browser.setDownloadBehavior", {"behavior": "default"})
    await assert_unharmed(cdp, api, session_id, site)


async def test_file_input_with_a_host_file_is_refused(cdp: Cdp, session_id: str) -> None:
    page = await cdp.page_session()
    root = (await cdp.ok("DOM.getDocument", session=page))["root"]["nodeId"]
    node = (await cdp.ok("DOM.querySelector", {"nodeId": root, "selector": "#doc"}, page))["nodeId"]
    message = await cdp.refused("DOM.setFileInputFiles", {"files": ["/etc/passwd"], "nodeId": node}, page)
    assert "/etc/passwd is outside the files this session may use" in message and "upload folder" in message
    assert await cdp.evaluate("document.querySelector('#doc').files.length", page) == 0


# ----- not CDP at all ----------------------------------------------------------------------------


async def test_unknown_domains_non_json_and_binary_frames_are_refused(cdp: Cdp) -> None:
    assert "allow-list" in await cdp.refused("Lanterna.pwn", {"x": 1})
    for frame, says in (("this is not json", "not JSON"), (b"\x00\x01binary", "binary frames")):
        reply = await cdp.send_raw(frame)
        assert reply["id"] is None and reply["error"]["code"] == -32000, reply
        assert (
            reply["error"]["message"].startswith("lanterna refused a message: ")
            and says in reply["error"]["message"]
        )
    assert "Chrome" in (await cdp.ok("Browser.getVersion"))["product"]  # the connection still works


# ----- what must keep working --------------------------------------------------------------------


async def test_playwright_over_the_relay_still_automates_pages(
    lanterna_server: LanternaServer, api: httpx.AsyncClient, session_id: str, site: str
) -> None:
    log_before = lanterna_server.log_path.read_text(errors="replace").count("CDP relay refused")
    url = (await api.get(f"/sessions/{session_id}/debug")).json()["ws"]["cdp"]
    async with async_playwright() as pw:
        browser = await pw.chromium.connect_over_cdp(url)
        # The browser's own pages (e.g. chrome://omnibox-popup) may be listed beside the tab.
        page = next(p for p in browser.contexts[0].pages if p.url == f"{site}/upload")
        await page.goto(f"{site}/upload")
        await page.click("#go")
        assert await page.evaluate("document.querySelector('#go').textContent") == "clicked"
        assert (await page.screenshot())[:8] == b"\x89PNG\r\n\x1a\n"
        second = await browser.contexts[0].new_page()
        await second.goto(f"{site}/upload")
        assert await second.title() == "Upload"
        await second.close()
        context = await browser.new_context()
        routed = await context.new_page()
        await routed.route(
            "**/routed", lambda route: route.fulfill(body="<title>routed</title>", content_type="text/html")
        )
        await routed.goto(f"{site}/routed")
        assert await routed.title() == "routed"
        await context.add_cookies([{"name": "k", "value": "v", "url": site}])
        assert [c["value"] for c in await context.cookies()] == ["v"]
        await context.close()
        await browser.close()  # disconnects only
    assert (await api.get(f"/sessions/{session_id}")).json()["status"] == "active"
    log_after = lanterna_server.log_path.read_text(errors="replace").count("CDP relay refused")
    assert log_after == log_before, lanterna_server.log_tail()
