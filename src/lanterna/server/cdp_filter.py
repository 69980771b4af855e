"""What a tenant may send through the CDP relay: each client→browser message is judged here.

An allow-list of CDP domains, the few methods of ``Browser`` and ``Target`` a client needs,
and per-method rules for the dangerous ones inside allowed domains: URLs are judged by the
session's egress policy, file paths must resolve inside the caller's roots, download folders
are forced to the session's own, and parameters that would leave the egress proxy or open an
unfiltered channel are refused.

Pure apart from resolving file paths (``realpath``): no sockets, and no state across messages but
which sessions are on the browser's own pages — and, in context isolation, what its
``ContextScope`` (``server.cdp_scope``) knows of the session's targets.
A passed message is forwarded as it was judged — parsed once and serialised again — so the
browser cannot read a duplicate key or other JSON oddity differently from this module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from lanterna.browser.egress import ALLOWED_SCHEMES, EgressRefusal
from lanterna.server.cdp_scope import ContextScope, LookUp, OutOfScope

ERROR_CODE = -32000
STOP_HINT = "stop the session with DELETE /sessions/{id}/stop instead"

# Domains a client may use: page automation (Playwright, Puppeteer) and DevTools panels.
ALLOWED_DOMAINS = frozenset(
    {
        "Accessibility", "Animation", "Audits", "Autofill", "Browser", "CSS", "CacheStorage",
        "Console", "DOM", "DOMDebugger", "DOMSnapshot", "DOMStorage", "Debugger",
        "DeviceOrientation", "Emulation", "EventBreakpoints", "Fetch", "HeadlessExperimental",
        "HeapProfiler", "IO", "IndexedDB", "Input", "Inspector", "LayerTree", "Log", "Media",
        "Memory", "Network", "Overlay", "Page", "Performance", "PerformanceTimeline", "Preload",
        "Profiler", "Runtime", "Schema", "Security", "ServiceWorker", "Storage", "Target",
        "Tracing", "WebAudio", "WebAuthn",
    }
)  # fmt: skip

# Why some domains stay closed, for the error message (any other domain gets a generic one).
_DOMAIN_WHY = {
    "Tethering": "it opens listening ports on lanterna's host",
    "Extensions": "it loads extensions from host paths",
    "SystemInfo": "it describes lanterna's host machine",
    "PWA": "it installs web apps and hands them host files",
    "FileSystem": "it is not needed for page automation",
}

# In these domains only the listed methods pass.
ONLY_METHODS: Mapping[str, frozenset[str]] = {
    "Browser": frozenset(
        {
            "getVersion", "setDownloadBehavior", "cancelDownload", "grantPermissions",
            "setPermission", "resetPermissions", "getWindowForTarget", "getWindowBounds",
            "setWindowBounds", "setContentsSize",
        }
    ),
    "Target": frozenset(
        {
            "activateTarget", "attachToTarget", "autoAttachRelated", "closeTarget",
            "createBrowserContext", "createTarget", "detachFromTarget", "disposeBrowserContext",
            "getBrowserContexts", "getTargetInfo", "getTargets", "setAutoAttach",
            "setDiscoverTargets",
        }
    ),
}  # fmt: skip


class Reason(StrEnum):
    """Why a message was refused."""

    BINARY = "binary"
    NOT_JSON = "not-json"
    MALFORMED = "malformed"
    DOMAIN = "domain"
    METHOD = "method"
    BROWSER_LIFETIME = "browser-lifetime"
    NESTED = "nested-protocol"
    URL = "url"
    PATH = "path"
    PARAMETER = "parameter"
    BROWSER_PAGE = "browser-page"
    CONTEXT = "context-scope"  # outside the session's browser context (context isolation)


# Methods refused with a reason of their own (checked before the domain rules).
_REFUSED: Mapping[str, tuple[Reason, str]] = {
    "Browser.close": (Reason.BROWSER_LIFETIME, f"the session's browser is lanterna's to end; {STOP_HINT}"),
    "Browser.crash": (Reason.BROWSER_LIFETIME, f"the session's browser is lanterna's to end; {STOP_HINT}"),
    "Browser.crashGpuProcess": (
        Reason.BROWSER_LIFETIME,
        f"the session's browser is lanterna's to end; {STOP_HINT}",
    ),
    "Browser.getBrowserCommandLine": (Reason.METHOD, "the browser's command line is the operator's"),
    "Target.sendMessageToTarget": (
        Reason.NESTED,
        "a message nested inside another cannot be checked; attach with Target.attachToTarget "
        "{flatten: true} and send commands with that sessionId",
    ),
    "Target.exposeDevToolsProtocol": (
        Reason.NESTED,
        "it would give page JavaScript an unfiltered DevTools channel; send CDP through this relay",
    ),
    "Target.setRemoteLocations": (
        Reason.METHOD,
        "it points the browser at other DevTools hosts; this relay is the only way in",
    ),
    "Target.attachToBrowserTarget": (
        Reason.METHOD,
        "connect to /sessions/{id}/cdp for the browser target",
    ),
}


# On a session attached to one of the browser's own pages (chrome://, devtools://, extensions)
# only these pass: enough for a client that auto-attaches to let the page run and let go of it.
_ON_BROWSER_PAGES = frozenset({"Runtime.runIfWaitingForDebugger", "Target.detachFromTarget"})
# Chromium writes "method" first in every event it sends.
_TARGET_EVENT = '{"method":"Target.'


class UrlJudge(Protocol):
    """The egress policy's URL check (``lanterna.browser.egress.EgressPolicy``)."""

    def check_url(self, url: str) -> EgressRefusal | None: ...


@dataclass(frozen=True, slots=True)
class Forward:
    """Send ``text`` to the browser (``rewritten`` when parameters were changed)."""

    text: str
    method: str
    rewritten: bool = False


@dataclass(frozen=True, slots=True)
class Refused:
    """Do not forward; answer the client with ``response``."""

    reason: Reason
    method: str | None
    why: str
    call_id: int | None = None
    session_id: str | None = None

    @property
    def message(self) -> str:
        return f"lanterna refused {self.method or 'a message'}: {self.why}"

    @property
    def response(self) -> str:
        """The CDP error response for the refused command's ``id`` (and ``sessionId``)."""
        body: dict[str, Any] = {"id": self.call_id}
        if self.session_id is not None:
            body["sessionId"] = self.session_id
        body["error"] = {"code": ERROR_CODE, "message": self.message}
        return json.dumps(body)


@dataclass(frozen=True, slots=True)
class _Deny:
    reason: Reason
    why: str


# NaN and Infinity are not JSON to Chromium; ASCII escapes keep lone surrogates sendable.
_ENCODER = json.JSONEncoder(allow_nan=False, check_circular=False, separators=(",", ":"))
_Params = dict[str, Any]
_Rule = Callable[["CdpFilter", _Params], "_Params | _Deny"]


class CdpFilter:
    """Judges the messages of one relay connection.

    ``egress`` judges URLs, ``downloads_dir`` is where every download must land, and
    ``file_roots`` are the folders whose files a page may be handed (upload folders).
    ``target_url`` is what the target shows when the connection is to one page target.
    ``scope``, in context isolation, keeps the connection inside the session's browser context.
    """

    def __init__(
        self,
        egress: UrlJudge,
        downloads_dir: Path,
        file_roots: Iterable[Path] = (),
        *,
        target_url: str | None = None,
        scope: ContextScope | None = None,
    ) -> None:
        self.egress = egress
        self.scope = scope
        self.downloads_dir = str(downloads_dir)
        self.file_roots = tuple(os.path.realpath(root) for root in file_roots)
        self._session_target: dict[str, str] = {}  # flattened session id -> target id
        self._browser_pages: dict[str, str] = {}  # target id -> URL, for the browser's own pages
        # A connection to one of the browser's own pages is such a session as a whole.
        self._own_page = target_url if target_url is not None and _is_browser_page(target_url) else None

    def observe(self, message: str) -> None:
        """Learn from a browser→client message which sessions are on the browser's own pages.

        Only ``Target.*`` events are parsed; any other message costs a prefix check.
        """
        if not message.startswith(_TARGET_EVENT):
            return
        try:
            event = json.loads(message)
            method, params = event["method"], event.get("params") or {}
            if method == "Target.attachedToTarget":
                self._session_target[params["sessionId"]] = params["targetInfo"]["targetId"]
            if method in ("Target.attachedToTarget", "Target.targetCreated", "Target.targetInfoChanged"):
                info = params["targetInfo"]
                if _is_browser_page(info.get("url", "")):
                    self._browser_pages[info["targetId"]] = info["url"]
                else:
                    self._browser_pages.pop(info["targetId"], None)
            elif method == "Target.detachedFromTarget":
                self._session_target.pop(params["sessionId"], None)
            elif method == "Target.targetDestroyed":
                self._browser_pages.pop(params["targetId"], None)
        except (ValueError, KeyError, TypeError, AttributeError):
            return  # not an event of the shape Chromium sends; nothing to learn

    def judge(self, message: str | bytes) -> Forward | Refused | LookUp:
        """Pass ``message`` (maybe with parameters rewritten) or refuse it.

        With a ``scope``, ``LookUp`` means: tell the scope about that target, then judge again."""
        if isinstance(message, bytes):
            return Refused(Reason.BINARY, None, "binary frames are not CDP; send each command as JSON text")
        try:
            parsed = json.loads(message)
        except (ValueError, RecursionError):
            return Refused(Reason.NOT_JSON, None, "not JSON; send each command as one JSON text frame")
        if not isinstance(parsed, dict):
            return Refused(Reason.MALFORMED, None, 'a command is a JSON object {"id", "method", "params"}')
        call_id, method = parsed.get("id"), parsed.get("method")
        session_id = parsed.get("sessionId")
        if type(call_id) is not int:  # bool is an int subclass; Chromium wants a real integer
            return Refused(Reason.MALFORMED, _str(method), '"id" must be an integer')
        if not isinstance(session_id, str | None):
            return Refused(Reason.MALFORMED, _str(method), '"sessionId" must be a string', call_id)
        if not isinstance(method, str):
            return Refused(Reason.MALFORMED, None, '"method" must be a string', call_id, session_id)
        params = parsed.get("params", {})
        if not isinstance(params, dict):
            return Refused(Reason.MALFORMED, method, '"params" must be an object', call_id, session_id)
        if method not in _ON_BROWSER_PAGES:
            if session_id is None:
                page = self._own_page
            else:
                page = self._browser_pages.get(self._session_target.get(session_id, ""))
            if page is not None:
                why = (
                    f"this session is attached to one of the browser's own pages ({page[:100]}); "
                    "only Runtime.runIfWaitingForDebugger and Target.detachFromTarget are allowed there"
                )
                return Refused(Reason.BROWSER_PAGE, method, why, call_id, session_id)
        verdict = self._judge_method(method, params)
        if isinstance(verdict, _Deny):
            return Refused(verdict.reason, method, verdict.why, call_id, session_id)
        expect = None
        if self.scope is not None:  # after the rules above, whose refusals say more
            scoped = self.scope.judge(call_id, method, verdict, session_id)
            if isinstance(scoped, LookUp):
                return scoped
            if isinstance(scoped, OutOfScope):
                return Refused(Reason.CONTEXT, method, scoped.why, call_id, session_id)
            verdict, expect = scoped.params, scoped.expect
        out: dict[str, Any] = {"id": call_id, "method": method, "params": verdict}
        if session_id is not None:
            out["sessionId"] = session_id
        try:
            text = _ENCODER.encode(out)
        except ValueError:
            return Refused(Reason.MALFORMED, method, "NaN and Infinity are not JSON", call_id, session_id)
        if expect is not None and self.scope is not None:
            self.scope.expect(session_id, call_id, expect)
        return Forward(text, method, rewritten=verdict is not params)

    def _judge_method(self, method: str, params: _Params) -> _Params | _Deny:
        refused = _REFUSED.get(method)
        if refused is not None:
            return _Deny(*refused)
        domain, _, name = method.partition(".")
        if domain not in ALLOWED_DOMAINS:
            why = _DOMAIN_WHY.get(domain, "it is not on lanterna's allow-list of CDP domains")
            return _Deny(Reason.DOMAIN, f"the {domain or '(empty)'} domain is closed: {why}")
        only = ONLY_METHODS.get(domain)
        if only is not None and name not in only:
            return _Deny(Reason.METHOD, f"{domain} allows only {', '.join(sorted(only))}")
        rule = _RULES.get(method)
        return params if rule is None else rule(self, params)

    # ----- URLs --------------------------------------------------------------------------

    def url_refusal(self, url: object) -> str | None:
        """Why ``url`` may not be opened, or None. Canonicalised as a browser would first."""
        if not isinstance(url, str):
            return "the URL must be a string"
        refusal = self.egress.check_url(url)
        return None if refusal is None else refusal.message

    # ----- files -------------------------------------------------------------------------

    def resolved_file(self, path: object) -> str | _Deny:
        """``path`` resolved (symlinks followed) when it lies inside a file root."""
        where = (
            f"pass a path inside your upload folder ({', '.join(self.file_roots)})"
            if self.file_roots
            else "this session has no upload folder"
        )
        if not isinstance(path, str) or not path or "\x00" in path or not os.path.isabs(path):
            return _Deny(Reason.PATH, f"{str(path)[:200]!r} is not an absolute file path; {where}")
        real = os.path.realpath(path)
        if any(real == root or real.startswith(root + os.sep) for root in self.file_roots):
            return real
        return _Deny(Reason.PATH, f"{path[:200]} is outside the files this session may use; {where}")

    def _files(self, files: object) -> list[str] | _Deny:
        if not isinstance(files, list):
            return _Deny(Reason.PARAMETER, '"files" must be a list of paths')
        resolved = []
        for path in files:
            real = self.resolved_file(path)
            if isinstance(real, _Deny):
                return real
            resolved.append(real)
        return resolved


# ----- per-method rules --------------------------------------------------------------------


def _download_behavior(f: CdpFilter, params: _Params) -> _Params | _Deny:
    behavior = params.get("behavior")
    if behavior not in ("deny", "allow", "allowAndName", "default"):
        return _Deny(Reason.PARAMETER, '"behavior" must be deny, allow, allowAndName or default')
    out = dict(params)
    out.pop("downloadPath", None)
    if behavior in ("allow", "allowAndName"):
        out["downloadPath"] = f.downloads_dir  # whatever was asked: downloads stay in the session
    return out


def _file_input_files(f: CdpFilter, params: _Params) -> _Params | _Deny:
    files = f._files(params.get("files"))
    return files if isinstance(files, _Deny) else {**params, "files": files}


def _drag_event(f: CdpFilter, params: _Params) -> _Params | _Deny:
    data = params.get("data")
    if not isinstance(data, dict) or "files" not in data:
        return params
    files = f._files(data["files"])
    return files if isinstance(files, _Deny) else {**params, "data": {**data, "files": files}}


_CONTEXT_REFUSED = ("proxyServer", "proxyBypassList", "originsWithUniversalNetworkAccess")


def _create_browser_context(f: CdpFilter, params: _Params) -> _Params | _Deny:
    # Present at all, even empty, is refused: an empty proxyServer would mean a direct connection.
    named = [key for key in _CONTEXT_REFUSED if key in params]
    if named:
        return _Deny(
            Reason.PARAMETER,
            f"{', '.join(named)} may not be set: every context uses the session's egress proxy; "
            "create the context without them",
        )
    return params


def _flattened(f: CdpFilter, params: _Params) -> _Params | _Deny:
    if params.get("flatten") is not True:
        return _Deny(
            Reason.NESTED,
            "only flattened sessions can be checked; pass flatten: true and address commands with "
            "the sessionId you get",
        )
    return params


def _tracing_start(f: CdpFilter, params: _Params) -> _Params | _Deny:
    if params.get("tracingBackend", "auto") not in ("auto", "chrome"):
        return _Deny(Reason.PARAMETER, "only the default tracing backend is allowed; omit tracingBackend")
    if "perfettoConfig" in params:
        return _Deny(Reason.PARAMETER, "perfettoConfig is not allowed; use traceConfig or categories")
    return params


def _url(name: str, *, required: bool = True, blank_ok: bool = False) -> _Rule:
    """A rule judging the URL in parameter ``name`` (``blank_ok``: "" means about:blank)."""

    def rule(f: CdpFilter, params: _Params) -> _Params | _Deny:
        url = params.get(name)
        if (url is None and not required) or (url == "" and blank_ok):
            return params
        why = f.url_refusal(url)
        return params if why is None else _Deny(Reason.URL, why)

    return rule


_RULES: Mapping[str, _Rule] = {
    "Browser.setDownloadBehavior": _download_behavior,
    "Page.setDownloadBehavior": _download_behavior,
    "DOM.setFileInputFiles": _file_input_files,
    "Input.dispatchDragEvent": _drag_event,
    "Target.createBrowserContext": _create_browser_context,
    "Target.attachToTarget": _flattened,
    "Target.setAutoAttach": _flattened,
    "Target.createTarget": _url("url", blank_ok=True),
    "Page.navigate": _url("url"),
    "Network.loadNetworkResource": _url("url"),
    "Fetch.continueRequest": _url("url", required=False),
    "Tracing.start": _tracing_start,
}


def _is_browser_page(url: str) -> bool:
    """A page of the browser's own (WebUI, DevTools, extensions); a tab's error page is not one."""
    scheme = url.partition(":")[0].lower()
    return bool(url) and scheme not in ALLOWED_SCHEMES and scheme != "chrome-error"


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
