"""Scoping a CDP connection to one browser context of a shared browser (``LANTERNA_ISOLATION=context``).

In context isolation one Chromium serves several sessions, each in a browser context of its own.
``ContextScope`` keeps what one relay connection knows — which targets, flattened sessions,
windows and downloads are the tenant's — and judges both directions with it:

- client → browser (``judge``): a message on a flattened session passes only for the tenant's
  sessions; any ``targetId``/``sessionId``/``windowId`` parameter must name the tenant's own;
  a ``browserContextId`` parameter is forced to the tenant's context (another is refused);
  methods that reach the whole browser process are refused; on the browser target only a
  judged list of methods passes (default deny).
- browser → client (``inbound``): ``Target.*`` events and replies that list targets or
  contexts are cut to the tenant's own; messages of other sessions are dropped; a target of
  another context that Chromium auto-attached to this connection is let go at once (resumed,
  then detached) with the relay's own commands, whose replies the client never sees.

Pure: no sockets. The relay (``server.cdp``) sends what ``inbound`` asks it to and looks up
targets it does not know yet (``LookUp``) with ``ask``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Ids from here on are the relay's own (Chromium takes 32-bit ids); a client may not use them.
RELAY_IDS_FROM = 2_000_000_000
_RELAY_IDS_SPAN = 2**31 - 1 - RELAY_IDS_FROM
_CONTEXT_HINT = (
    "sessions share this browser process (LANTERNA_ISOLATION=context) and each has one browser "
    "context of its own"
)

# The browser target's methods a tenant may call; anything else there reaches the whole process.
BROWSER_TARGET_METHODS = frozenset(
    {
        "Browser.getVersion", "Browser.setDownloadBehavior", "Browser.cancelDownload",
        "Browser.grantPermissions", "Browser.setPermission", "Browser.resetPermissions",
        "Browser.getWindowForTarget", "Browser.getWindowBounds", "Browser.setWindowBounds",
        "Browser.setContentsSize",
        "Storage.getCookies", "Storage.setCookies", "Storage.clearCookies",
        "Target.activateTarget", "Target.attachToTarget", "Target.autoAttachRelated",
        "Target.closeTarget", "Target.createTarget", "Target.detachFromTarget",
        "Target.getBrowserContexts", "Target.getTargetInfo", "Target.getTargets",
        "Target.setAutoAttach", "Target.setDiscoverTargets",
        "Schema.getDomains",
    }
)  # fmt: skip

# Methods whose ``browserContextId`` left out means the browser's default context: set to the own.
_CONTEXT_DEFAULTED = frozenset(
    {
        "Browser.setDownloadBehavior", "Browser.cancelDownload", "Browser.grantPermissions",
        "Browser.setPermission", "Browser.resetPermissions", "Storage.getCookies",
        "Storage.setCookies", "Storage.clearCookies", "Target.createTarget",
    }
)  # fmt: skip

# Refused on any target: they reach every context of the shared process.
_PROCESS_WIDE: Mapping[str, str] = {
    "Target.createBrowserContext": "a session has exactly one browser context; open pages in it with "
    "Target.createTarget",
    "Target.disposeBrowserContext": "the session's browser context is lanterna's to close; stop the "
    "session with DELETE /sessions/{id}/stop",
    "Memory.getBrowserSamplingProfile": "it profiles the shared browser process",
    "Memory.simulatePressureNotification": "it acts on the shared browser process",
    "Memory.setPressureNotificationsSuppressed": "it acts on the shared browser process",
    "Memory.prepareForLeakDetection": "it acts on the shared browser process",
}
# Domains refused on any target, for the same reason.
_PROCESS_WIDE_DOMAINS: Mapping[str, str] = {
    "Tracing": "a trace records the shared browser process, other sessions' pages included",
}
_TAIL_SESSION = re.compile(r',"sessionId":"([^"\\]*)"}$')
_HEAD_ID = re.compile(r'^\{"id":(\d+)[,}]')
_TARGET_EVENT = '{"method":"Target.'
_TAIL_CHARS = 120


class Expect(StrEnum):
    """What the relay does with the reply to a command it passed."""

    TARGETS = "targets"  # Target.getTargets: only the tenant's targets
    CONTEXTS = "contexts"  # Target.getBrowserContexts: only the tenant's context
    TARGET_INFO = "target-info"  # Target.getTargetInfo: refused for another context's target
    ATTACHED = "attached"  # Target.attachToTarget: the session is the tenant's
    CREATED = "created"  # Target.createTarget: the target is the tenant's
    WINDOW = "window"  # Browser.getWindowForTarget: the window is the tenant's


_EXPECTED: Mapping[str, Expect] = {
    "Target.getTargets": Expect.TARGETS,
    "Target.getBrowserContexts": Expect.CONTEXTS,
    "Target.getTargetInfo": Expect.TARGET_INFO,
    "Target.attachToTarget": Expect.ATTACHED,
    "Target.createTarget": Expect.CREATED,
    "Browser.getWindowForTarget": Expect.WINDOW,
}


@dataclass(frozen=True, slots=True)
class Scoped:
    """Pass the command with ``params`` (maybe rewritten); ``expect`` says how to treat its reply."""

    params: dict[str, Any]
    expect: Expect | None = None


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """Refuse the command: ``why`` it reaches outside the session's browser context."""

    why: str


@dataclass(frozen=True, slots=True)
class LookUp:
    """The command names a target the scope does not know yet: ask the browser, then judge again."""

    target_id: str


@dataclass(frozen=True, slots=True)
class Inbound:
    """What to do with one browser→client message.

    ``to_client`` is sent to the client (None: dropped); ``to_browser`` are the relay's own
    commands to send first; ``answer`` is set when the message answers one of the relay's
    questions (``ask``): its id and its result (None for an error).
    """

    to_client: str | None
    to_browser: tuple[str, ...] = ()
    answer: tuple[int, dict[str, Any] | None] | None = None


@dataclass
class ContextScope:
    """What one relay connection may see and touch: the targets of ``browser_context_id``.

    ``page_target`` is set when the connection is to one page target (``/cdp/page/{id}``):
    its messages without a ``sessionId`` are that page's, not the browser target's.
    """

    browser_context_id: str
    page_target: str | None = None
    # target id -> its browser context ("" when it has none)
    targets: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # the tenant's session id -> target id
    windows: set[int] = field(default_factory=set)
    downloads: set[str] = field(default_factory=set)  # guids of the tenant's downloads
    _expected: dict[tuple[str | None, int], Expect] = field(default_factory=dict)
    _asked: set[int] = field(default_factory=set)  # the relay's questions awaiting an answer
    _swallowed: set[int] = field(default_factory=set)  # the relay's commands whose reply is dropped
    _next_id: int = 0
    # A target the browser just said does not exist: not kept, lest made-up ids fill the map.
    _absent: str | None = None

    def __post_init__(self) -> None:
        if self.page_target is not None:
            self.targets[self.page_target] = self.browser_context_id

    # ----- client → browser --------------------------------------------------------------

    def judge(
        self, call_id: int, method: str, params: dict[str, Any], session_id: str | None
    ) -> Scoped | OutOfScope | LookUp:
        """Whether a client command stays inside the session's context (``params`` may be rewritten)."""
        if not 0 <= call_id < RELAY_IDS_FROM:
            return OutOfScope(
                f"ids from {RELAY_IDS_FROM} on are the relay's own and ids below 0 are not used; number "
                f"commands from 0 to {RELAY_IDS_FROM - 1}"
            )
        if session_id is not None and session_id not in self.sessions:
            return OutOfScope(
                f"session {session_id[:64]} is not attached to one of this session's targets; use a "
                "sessionId from Target.attachToTarget or Target.attachedToTarget"
            )
        domain = method.partition(".")[0]
        why = _PROCESS_WIDE.get(method) or _PROCESS_WIDE_DOMAINS.get(domain)
        if why is not None:
            return OutOfScope(f"{why}; {_CONTEXT_HINT}")
        on_browser_target = session_id is None and self.page_target is None
        if on_browser_target and method not in BROWSER_TARGET_METHODS:
            return OutOfScope(
                "on the browser target it would reach every browser context of the shared process; "
                "attach to one of this session's pages (Target.attachToTarget {flatten: true}) and "
                f"send it with that sessionId; {_CONTEXT_HINT}"
            )
        checked = self._check_references(params)
        if checked is not None:
            return checked
        if "browserContextId" in params or method in _CONTEXT_DEFAULTED:
            named = params.get("browserContextId")
            if named is not None and named != self.browser_context_id:
                return OutOfScope(
                    f"browser context {str(named)[:64]} is not this session's; leave browserContextId "
                    f"out or pass {self.browser_context_id}"
                )
            params = {**params, "browserContextId": self.browser_context_id}
        return Scoped(params, _EXPECTED.get(method))

    def _check_references(self, params: dict[str, Any]) -> OutOfScope | LookUp | None:
        target = params.get("targetId")
        if target is not None:
            if not isinstance(target, str):
                return OutOfScope('"targetId" must be a string')
            owner = self.targets.get(target)
            if owner is None and target != self._absent:
                return LookUp(target)
            if owner != self.browser_context_id:
                return OutOfScope(
                    f"target {target[:64]} is not one of this session's (another browser context's, or "
                    "none); Target.getTargets lists this session's targets"
                )
        session = params.get("sessionId")
        if session is not None and not (isinstance(session, str) and session in self.sessions):
            return OutOfScope(f"session {str(session)[:64]} is not attached to one of this session's targets")
        window = params.get("windowId")
        if window is not None and not (type(window) is int and window in self.windows):
            return OutOfScope(
                f"window {str(window)[:32]} is not one of this session's; get it with "
                "Browser.getWindowForTarget for one of its targets"
            )
        return None

    def expect(self, session_id: str | None, call_id: int, expect: Expect) -> None:
        """The command was passed: treat its reply as ``expect`` says."""
        self._expected[(session_id, call_id)] = expect

    def learn(self, target_id: str, info: dict[str, Any] | None) -> None:
        """What the browser answered about ``target_id`` (None: no such target)."""
        if info is None:
            self._absent = target_id
        else:
            self.targets[target_id] = _context_of(info)

    # ----- the relay's own commands ---------------------------------------------------------

    def ask(self, method: str, params: dict[str, Any]) -> tuple[int, str]:
        """A command of the relay's own whose answer ``inbound`` hands back: its id and text."""
        call_id, text = self._command(method, params, None)
        self._asked.add(call_id)
        return call_id, text

    def forget(self, call_id: int) -> None:
        """The relay stopped waiting for the answer to ``call_id``: drop it when it comes."""
        if call_id in self._asked:
            self._asked.discard(call_id)
            self._swallowed.add(call_id)

    def _command(self, method: str, params: dict[str, Any], session_id: str | None) -> tuple[int, str]:
        call_id = RELAY_IDS_FROM + self._next_id
        self._next_id = (self._next_id + 1) % _RELAY_IDS_SPAN
        body: dict[str, Any] = {"id": call_id, "method": method, "params": params}
        if session_id is not None:
            body["sessionId"] = session_id
        return call_id, json.dumps(body, separators=(",", ":"))

    def _release(self, session_id: str, parent: str | None, waiting: bool) -> tuple[str, ...]:
        """Commands letting go of a target of another context auto-attached to this connection."""
        commands = []
        if waiting:  # otherwise it would stay paused, waiting for this client
            call_id, text = self._command("Runtime.runIfWaitingForDebugger", {}, session_id)
            self._swallowed.add(call_id)
            commands.append(text)
        call_id, text = self._command("Target.detachFromTarget", {"sessionId": session_id}, parent)
        self._swallowed.add(call_id)
        commands.append(text)
        return tuple(commands)

    # ----- browser → client --------------------------------------------------------------

    def inbound(self, message: str) -> Inbound:
        """Judge one browser→client message: pass, cut, drop or answer the relay."""
        head = _HEAD_ID.match(message)  # Chromium writes "id" first in every reply
        if head is not None and int(head.group(1)) >= RELAY_IDS_FROM:
            return self._relay_reply(int(head.group(1)), message)
        tail = _TAIL_SESSION.search(message, max(0, len(message) - _TAIL_CHARS))
        session_id = tail.group(1) if tail is not None else None
        if session_id is not None:
            if session_id not in self.sessions:
                return Inbound(None)  # another context's session, being let go
        elif self.page_target is None:
            return self._parsed(message, None, browser_target=True)
        # The tenant's own session (or page connection): only Target events and expected replies.
        if message.startswith(_TARGET_EVENT):
            return self._parsed(message, session_id)
        if head is not None and (session_id, int(head.group(1))) in self._expected:
            return self._parsed(message, session_id)
        return Inbound(message)

    def _relay_reply(self, call_id: int, message: str) -> Inbound:
        if call_id not in self._asked:
            self._swallowed.discard(call_id)
            return Inbound(None)
        self._asked.discard(call_id)
        try:
            result = json.loads(message).get("result")
        except (ValueError, AttributeError):
            result = None
        return Inbound(None, answer=(call_id, result if isinstance(result, dict) else None))

    def _parsed(self, message: str, session_id: str | None, *, browser_target: bool = False) -> Inbound:
        try:
            parsed = json.loads(message)
        except ValueError:
            return Inbound(None)
        if not isinstance(parsed, dict) or (browser_target and "sessionId" in parsed):
            return Inbound(None)  # not of the shape Chromium sends
        if isinstance(parsed.get("id"), int) and parsed["id"] >= RELAY_IDS_FROM:
            return self._relay_reply(parsed["id"], message)
        return self._judged(parsed, message, session_id)

    def _judged(self, parsed: dict[str, Any], message: str, session_id: str | None) -> Inbound:
        try:
            if "id" in parsed:
                return self._reply(parsed, message, session_id)
            return self._event(parsed, message, session_id)
        except (KeyError, TypeError, AttributeError):
            return Inbound(None)  # not of the shape Chromium sends; nothing of it passes

    def _reply(self, reply: dict[str, Any], message: str, session_id: str | None) -> Inbound:
        expect = self._expected.pop((session_id, reply["id"]), None)
        result = reply.get("result")
        if expect is None or not isinstance(result, dict):
            return Inbound(message)
        if expect is Expect.TARGETS:
            infos = result["targetInfos"]
            for info in infos:
                self.targets[info["targetId"]] = _context_of(info)
            result = {**result, "targetInfos": [i for i in infos if self._own(i)]}
        elif expect is Expect.CONTEXTS:
            own = [c for c in result["browserContextIds"] if c == self.browser_context_id]
            result = {"browserContextIds": own}
        elif expect is Expect.TARGET_INFO:
            info = result["targetInfo"]
            self.targets[info["targetId"]] = _context_of(info)
            if info.get("type") != "browser" and not self._own(info):
                error = {"code": -32000, "message": "lanterna refused Target.getTargetInfo: that target is "
                         "not one of this session's"}  # fmt: skip
                return Inbound(_encode({"id": reply["id"], "error": error}, session_id))
            return Inbound(message)
        elif expect is Expect.ATTACHED:
            self.sessions.setdefault(result["sessionId"], "")  # its attachedToTarget came first
            return Inbound(message)
        elif expect is Expect.CREATED:
            self.targets[result["targetId"]] = self.browser_context_id
            return Inbound(message)
        elif expect is Expect.WINDOW:
            self.windows.add(result["windowId"])
            return Inbound(message)
        return Inbound(_encode({"id": reply["id"], "result": result}, session_id))

    def _event(self, event: dict[str, Any], message: str, session_id: str | None) -> Inbound:
        method, params = event["method"], event.get("params") or {}
        domain = method.partition(".")[0]
        if domain == "Target":
            return self._target_event(method, params, message, session_id)
        if session_id is not None or self.page_target is not None:
            return Inbound(message)  # an event of one of the tenant's own pages
        if method == "Browser.downloadWillBegin":
            if self.targets.get(params["frameId"]) != self.browser_context_id:
                return Inbound(None)
            self.downloads.add(params["guid"])
            return Inbound(message)
        if method == "Browser.downloadProgress":
            guid = params["guid"]
            if guid not in self.downloads:
                return Inbound(None)
            if params.get("state") in ("completed", "canceled"):
                self.downloads.discard(guid)
            return Inbound(message)
        return Inbound(message if domain == "Inspector" else None)

    def _target_event(
        self, method: str, params: dict[str, Any], message: str, session_id: str | None
    ) -> Inbound:
        if method in ("Target.targetCreated", "Target.targetInfoChanged"):
            info = params["targetInfo"]
            self.targets[info["targetId"]] = _context_of(info)
            return Inbound(message if self._own(info) else None)
        if method in ("Target.targetDestroyed", "Target.targetCrashed"):
            own = self.targets.get(params["targetId"]) == self.browser_context_id
            if method == "Target.targetDestroyed":
                self.targets.pop(params["targetId"], None)
            return Inbound(message if own else None)
        if method == "Target.attachedToTarget":
            info, attached = params["targetInfo"], params["sessionId"]
            self.targets[info["targetId"]] = _context_of(info)
            if not self._own(info):
                waiting = bool(params.get("waitingForDebugger"))
                return Inbound(None, self._release(attached, session_id, waiting))
            self.sessions[attached] = info["targetId"]
            return Inbound(message)
        if method == "Target.detachedFromTarget":
            own = params["sessionId"] in self.sessions
            self.sessions.pop(params["sessionId"], None)
            return Inbound(message if own else None)
        if method == "Target.receivedMessageFromTarget":
            return Inbound(message if params.get("sessionId") in self.sessions else None)
        return Inbound(None)  # a Target event not judged here: nothing of it passes

    def _own(self, info: Mapping[str, Any]) -> bool:
        return _context_of(info) == self.browser_context_id


def _context_of(info: Mapping[str, Any]) -> str:
    context = info.get("browserContextId")
    return context if isinstance(context, str) else ""


def _encode(body: dict[str, Any], session_id: str | None) -> str:
    if session_id is not None:
        body["sessionId"] = session_id
    return json.dumps(body, separators=(",", ":"))
