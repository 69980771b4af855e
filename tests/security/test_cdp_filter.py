"""The pure CDP filter: what passes, what is rewritten, what is refused and how it says so."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lanterna.browser.egress import EgressPolicy
from lanterna.server.cdp_filter import ERROR_CODE, CdpFilter, Forward, Reason, Refused


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    downloads, uploads = tmp_path / "downloads", tmp_path / "uploads"
    downloads.mkdir()
    uploads.mkdir()
    return downloads, uploads


@pytest.fixture
def rules(roots: tuple[Path, Path]) -> CdpFilter:
    downloads, uploads = roots
    return CdpFilter(EgressPolicy(), downloads, [uploads])


def command(method: str, params: dict[str, Any] | None = None, **extra: Any) -> str:
    return json.dumps(
        {"id": 7, "method": method, **({"params": params} if params is not None else {}), **extra}
    )


def passed(rules: CdpFilter, message: str | bytes) -> dict[str, Any]:
    verdict = rules.judge(message)
    assert isinstance(verdict, Forward), verdict
    forwarded: dict[str, Any] = json.loads(verdict.text)
    return forwarded


def refused(rules: CdpFilter, message: str | bytes, reason: Reason) -> Refused:
    verdict = rules.judge(message)
    assert isinstance(verdict, Refused), verdict
    assert verdict.reason is reason, verdict
    return verdict


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("Runtime.evaluate", {"expression": "1+1", "returnByValue": True}),
        ("Page.navigate", {"url": "http://127.0.0.1:8080/index.html"}),
        ("Page.navigate", {"url": "about:blank"}),
        ("Page.navigate", {"url": "data:text/html,<p>hi</p>"}),
        ("Page.captureScreenshot", {"format": "png"}),
        ("Page.createIsolatedWorld", {"frameId": "F", "grantUniveralAccess": True, "worldName": "w"}),
        ("Target.createTarget", {"url": ""}),
        ("Target.createTarget", {"url": "about:blank", "browserContextId": "C"}),
        ("Target.createBrowserContext", {"disposeOnDetach": True}),
        ("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True}),
        ("Target.attachToTarget", {"targetId": "T", "flatten": True}),
        ("Browser.getVersion", None),
        ("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}),
        ("Fetch.continueRequest", {"requestId": "1"}),
        ("Network.getCookies", {"urls": ["file:///etc/passwd"]}),  # reads cookies, loads nothing
        ("Tracing.start", {"categories": "devtools.timeline", "transferMode": "ReturnAsStream"}),
        ("Input.dispatchMouseEvent", {"type": "mousePressed", "x": 1, "y": 2, "button": "left"}),
    ],
)
def test_page_automation_passes_unchanged(
    rules: CdpFilter, method: str, params: dict[str, Any] | None
) -> None:
    forwarded = passed(rules, command(method, params, sessionId="S1"))
    assert forwarded == {"id": 7, "method": method, "params": params or {}, "sessionId": "S1"}


def test_the_browser_reads_what_was_judged(rules: CdpFilter) -> None:
    # Duplicate keys: the forwarded text has the one value that was checked, not the other.
    message = (
        '{"id":1,"method":"Page.navigate","params":{"url":"file:///etc/passwd","url":"http://127.0.0.1/"}}'
    )
    forwarded = passed(rules, message)
    assert forwarded["params"] == {"url": "http://127.0.0.1/"}
    unknown_keys = passed(rules, '{"id":1,"method":"Runtime.enable","junk":{"x":1}}')
    assert unknown_keys == {"id": 1, "method": "Runtime.enable", "params": {}}


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        " FILE:///etc/passwd",
        "fi\tle:///etc/passwd",
        "view-source:http://127.0.0.1/",
        "chrome://version",
        "about:version",
        "devtools://devtools/bundled/inspector.html",
        "chrome-extension://abc/x.html",
        "filesystem:http://127.0.0.1/temporary/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/",
        "http://0xa9.0376.43518/",
        "http:\\\\169.254.169.254\\latest",
        "http:169.254.169.254",
        "http://%31%36%39.254.169.254/",
        "http://\uff11\uff16\uff19.254.169.254/",
        "https://[::ffff:169.254.169.254]/",
        "http://09.1.1.1/",
        "http://",
        "not a url",
    ],
)
def test_navigation_urls_are_judged_by_the_egress_policy(rules: CdpFilter, url: str) -> None:
    refusal = refused(rules, command("Page.navigate", {"url": url}), Reason.URL)
    assert refusal.message.startswith("lanterna refused Page.navigate: ")


def test_every_url_taking_method_is_judged(rules: CdpFilter) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("Target.createTarget", {"url": "file:///etc/passwd"}),
        ("Network.loadNetworkResource", {"frameId": "F", "url": "file:///etc/passwd", "options": {}}),
        ("Fetch.continueRequest", {"requestId": "1", "url": "file:///etc/passwd"}),
        ("Page.navigate", {}),
    ]
    for method, params in cases:
        refusal = refused(rules, command(method, params), Reason.URL)
        assert method in refusal.message


def test_download_folders_are_forced_to_the_sessions_own(rules: CdpFilter, roots: tuple[Path, Path]) -> None:
    downloads = str(roots[0])
    for method in ("Browser.setDownloadBehavior", "Page.setDownloadBehavior"):
        verdict = rules.judge(command(method, {"behavior": "allow", "downloadPath": "/etc"}))
        assert isinstance(verdict, Forward) and verdict.rewritten
        assert json.loads(verdict.text)["params"] == {"behavior": "allow", "downloadPath": downloads}
    missing = passed(rules, command("Browser.setDownloadBehavior", {"behavior": "allowAndName"}))
    assert missing["params"]["downloadPath"] == downloads
    denied = passed(
        rules, command("Browser.setDownloadBehavior", {"behavior": "deny", "downloadPath": "/etc"})
    )
    assert denied["params"] == {"behavior": "deny"}
    refused(rules, command("Browser.setDownloadBehavior", {"behavior": "sideways"}), Reason.PARAMETER)


def test_files_must_resolve_inside_the_upload_folder(rules: CdpFilter, roots: tuple[Path, Path]) -> None:
    uploads = roots[1]
    (uploads / "cv.pdf").write_text("cv")
    (uploads / "escape").symlink_to("/etc/passwd")
    ok = passed(
        rules,
        command("DOM.setFileInputFiles", {"files": [str(uploads / "x" / ".." / "cv.pdf")], "nodeId": 3}),
    )
    assert ok["params"]["files"] == [os.path.realpath(uploads / "cv.pdf")]
    for files in (
        ["/etc/passwd"],
        [str(uploads / "escape")],
        [str(uploads / ".." / "downloads")],
        ["cv.pdf"],
        "x",
    ):
        expected = Reason.PARAMETER if isinstance(files, str) else Reason.PATH
        refusal = refused(rules, command("DOM.setFileInputFiles", {"files": files, "nodeId": 3}), expected)
        assert "DOM.setFileInputFiles" in refusal.message
    drop = {
        "type": "drop",
        "x": 1,
        "y": 1,
        "data": {"items": [], "files": ["/etc/passwd"], "dragOperationsMask": 1},
    }
    assert "upload folder" in refused(rules, command("Input.dispatchDragEvent", drop), Reason.PATH).message
    no_roots = CdpFilter(EgressPolicy(), roots[0])
    refusal = refused(
        no_roots, command("DOM.setFileInputFiles", {"files": [str(uploads / "cv.pdf")]}), Reason.PATH
    )
    assert "no upload folder" in refusal.message


@pytest.mark.parametrize("key", ["proxyServer", "proxyBypassList", "originsWithUniversalNetworkAccess"])
@pytest.mark.parametrize("value", ["socks5://127.0.0.1:1080", "", None, ["http://x"]])
def test_browser_contexts_keep_the_egress_proxy(rules: CdpFilter, key: str, value: Any) -> None:
    refusal = refused(rules, command("Target.createBrowserContext", {key: value}), Reason.PARAMETER)
    assert key in refusal.message and "egress proxy" in refusal.message


@pytest.mark.parametrize(
    ("method", "params", "reason", "says"),
    [
        ("Browser.close", None, Reason.BROWSER_LIFETIME, "DELETE /sessions/{id}/stop"),
        ("Browser.crash", None, Reason.BROWSER_LIFETIME, "DELETE /sessions/{id}/stop"),
        ("Browser.crashGpuProcess", None, Reason.BROWSER_LIFETIME, "DELETE /sessions/{id}/stop"),
        ("Browser.getBrowserCommandLine", None, Reason.METHOD, "command line"),
        (
            "Browser.executeBrowserCommand",
            {"commandId": "openTabSearch"},
            Reason.METHOD,
            "Browser allows only",
        ),
        ("Target.sendMessageToTarget", {"message": "{}", "sessionId": "S"}, Reason.NESTED, "flatten: true"),
        ("Target.exposeDevToolsProtocol", {"targetId": "T"}, Reason.NESTED, "unfiltered"),
        (
            "Target.setRemoteLocations",
            {"locations": [{"host": "x", "port": 1}]},
            Reason.METHOD,
            "DevTools hosts",
        ),
        ("Target.attachToBrowserTarget", None, Reason.METHOD, "/sessions/{id}/cdp"),
        ("Target.openDevTools", {"targetId": "T"}, Reason.METHOD, "Target allows only"),
        ("Target.attachToTarget", {"targetId": "T"}, Reason.NESTED, "flatten: true"),
        (
            "Target.setAutoAttach",
            {"autoAttach": True, "waitForDebuggerOnStart": False},
            Reason.NESTED,
            "flatten",
        ),
        ("Tethering.bind", {"port": 22}, Reason.DOMAIN, "listening ports"),
        ("Extensions.loadUnpacked", {"path": "/tmp"}, Reason.DOMAIN, "host paths"),
        ("SystemInfo.getProcessInfo", None, Reason.DOMAIN, "host machine"),
        ("PWA.launchFilesInApp", {"manifestId": "m", "files": ["/etc/passwd"]}, Reason.DOMAIN, "PWA"),
        ("Bogus.method", None, Reason.DOMAIN, "allow-list"),
        ("nodomain", None, Reason.DOMAIN, "allow-list"),
        ("Tracing.start", {"tracingBackend": "system"}, Reason.PARAMETER, "default tracing backend"),
        ("Tracing.start", {"perfettoConfig": "AAAA"}, Reason.PARAMETER, "perfettoConfig"),
    ],
)
def test_dangerous_methods_are_refused_with_a_clear_reason(
    rules: CdpFilter, method: str, params: dict[str, Any] | None, reason: Reason, says: str
) -> None:
    refusal = refused(rules, command(method, params, sessionId="S9"), reason)
    assert refusal.message.startswith(f"lanterna refused {method}: ") and says in refusal.message
    assert json.loads(refusal.response) == {
        "id": 7,
        "sessionId": "S9",
        "error": {"code": ERROR_CODE, "message": refusal.message},
    }


@pytest.mark.parametrize(
    ("message", "says"),
    [
        (b'{"id": 1, "method": "Runtime.enable"}', "binary frames"),
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"method": "Runtime.enable"}', '"id" must be an integer'),
        ('{"id": true, "method": "Runtime.enable"}', '"id" must be an integer'),
        ('{"id": 1, "method": 5}', '"method" must be a string'),
        ('{"id": 1, "method": "Runtime.enable", "params": []}', '"params" must be an object'),
        ('{"id": 1, "method": "Runtime.enable", "sessionId": 3}', '"sessionId" must be a string'),
        ('{"id": 1, "method": "Runtime.evaluate", "params": {"expression": NaN}}', "NaN"),
        ("[" * 100_000, "not JSON"),
    ],
)
def test_messages_that_are_not_commands_are_refused(
    rules: CdpFilter, message: str | bytes, says: str
) -> None:
    verdict = rules.judge(message)
    assert isinstance(verdict, Refused) and says in verdict.message, verdict
    body = json.loads(verdict.response)
    assert body["error"]["code"] == ERROR_CODE and body["error"]["message"].startswith("lanterna refused ")


def event(method: str, params: dict[str, Any]) -> str:
    return json.dumps({"method": method, "params": params}, separators=(",", ":"))


def test_sessions_on_the_browsers_own_pages_only_let_go(rules: CdpFilter) -> None:
    webui = {"targetId": "T1", "type": "page", "url": "chrome://omnibox-popup.top-chrome/"}
    rules.observe(event("Target.attachedToTarget", {"sessionId": "S1", "targetInfo": webui}))
    error_page = {"targetId": "T2", "type": "page", "url": "chrome-error://chromewebdata/"}
    rules.observe(event("Target.attachedToTarget", {"sessionId": "S2", "targetInfo": error_page}))
    refusal = refused(
        rules, command("Runtime.evaluate", {"expression": "1"}, sessionId="S1"), Reason.BROWSER_PAGE
    )
    assert "chrome://omnibox-popup.top-chrome/" in refusal.message and refusal.session_id == "S1"
    passed(rules, command("Runtime.runIfWaitingForDebugger", sessionId="S1"))
    passed(rules, command("Runtime.evaluate", {"expression": "1"}, sessionId="S2"))  # a tab's error page
    # A tab that becomes one of the browser's pages is closed off too; one that leaves it, opened again.
    rules.observe(
        event("Target.targetInfoChanged", {"targetInfo": {**error_page, "url": "devtools://devtools/x"}})
    )
    refused(rules, command("Runtime.evaluate", sessionId="S2"), Reason.BROWSER_PAGE)
    rules.observe(event("Target.targetInfoChanged", {"targetInfo": {**webui, "url": "about:blank"}}))
    passed(rules, command("Runtime.evaluate", sessionId="S1"))
    rules.observe(event("Target.detachedFromTarget", {"sessionId": "S2"}))
    passed(rules, command("Runtime.evaluate", sessionId="S2"))  # unknown session: the browser answers
    for junk in (
        '{"method":"Target.attachedToTarget"}',
        '{"method":"Target.x',
        '{"method":"Target.targetCreated","params":[]}',
    ):
        rules.observe(junk)


def test_a_connection_to_one_of_the_browsers_own_pages_only_lets_go(roots: tuple[Path, Path]) -> None:
    own = CdpFilter(EgressPolicy(), roots[0], target_url="chrome://omnibox-popup.top-chrome/")
    refused(own, command("Runtime.evaluate", {"expression": "1"}), Reason.BROWSER_PAGE)
    passed(own, command("Runtime.runIfWaitingForDebugger"))
    tab = CdpFilter(EgressPolicy(), roots[0], target_url="http://127.0.0.1:8000/demo/")
    passed(tab, command("Runtime.evaluate", {"expression": "1"}))
