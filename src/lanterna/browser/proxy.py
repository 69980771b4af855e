"""The forward proxy every browser must use: the egress policy, enforced after DNS.

Each browser gets its own listener on loopback (``--proxy-server``, with loopback *not*
bypassed), so whatever its pages do — navigations, subresources, fetch/XHR, WebSockets,
service workers, raw CDP — every connection passes here. The proxy resolves the host itself
and connects to the exact address it judged, so DNS rebinding cannot slip past the check.
A refused plain-HTTP request gets a 403 page naming the rule; a refused CONNECT a 403 the
browser shows as a tunnel error. Every refusal is reported to ``on_refused``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

from lanterna.browser.egress import BROWSER_SERVICE_HOSTS, EgressPolicy, EgressRefusal, Rule, as_address

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
CONNECT_TIMEOUT_S = 10.0
HEAD_TIMEOUT_S = 30.0
PIPE_CHUNK = 64 * 1024
REFUSALS_KEPT = 100
# Hop-by-hop headers of the browser→proxy leg, not forwarded to the origin.
_PROXY_HEADERS = (b"proxy-connection", b"proxy-authorization", b"connection", b"keep-alive")

RefusalListener = Callable[[EgressRefusal], None]


class EgressProxy:
    """One browser's proxy listener. ``await start()``, then ``url``; ``await close()``."""

    def __init__(self, policy: EgressPolicy, *, on_refused: RefusalListener | None = None) -> None:
        self.policy = policy
        self.on_refused = on_refused
        self.label = "warm browser"  # the session id once a session takes the browser
        self.refusals: deque[EgressRefusal] = deque(maxlen=REFUSALS_KEPT)
        self.contacted: deque[str] = deque(maxlen=REFUSALS_KEPT)  # host:port of each connection made
        self.port = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, limit=MAX_HEAD_BYTES)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._server.wait_closed()
        self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
        request_line, _, header_block = head.partition(b"\r\n")
        try:
            method, target, version = request_line.decode("latin-1").split(" ")
        except ValueError:
            await _answer(writer, 400, "malformed request line")
            return
        if method == "CONNECT":
            host, _, port_text = target.rpartition(":")
            if not port_text.isdigit():
                await _answer(writer, 400, "CONNECT needs host:port")
                return
            upstream = await self._open(host.strip("[]"), int(port_text), writer, path=None)
            if upstream is None:
                return
            writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            await writer.drain()
            await _pipe_both(reader, writer, *upstream)
            return
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            await _answer(writer, 400, "a proxy request needs an absolute http:// URL")
            return
        path = parts.path or "/"
        upstream = await self._open(parts.hostname, parts.port or 80, writer, path=path)
        if upstream is None:
            return
        up_reader, up_writer = upstream
        origin_target = path + (f"?{parts.query}" if parts.query else "")
        up_writer.write(
            f"{method} {origin_target} {version}\r\n".encode("latin-1") + _forwarded_headers(header_block)
        )
        await up_writer.drain()
        await _pipe_both(reader, writer, up_reader, up_writer, rewrite_response_head=True)

    async def _open(
        self, host: str, port: int, writer: asyncio.StreamWriter, *, path: str | None
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """Resolve, judge each address, connect to the first allowed one; refuse otherwise."""
        host = host.lower().rstrip(".")
        refusal = self.policy.check_host(host, as_address(host), port, path=path, plain_http=path is not None)
        addresses: list[str] = []
        if refusal is None and (host == "invalid" or host.endswith(".invalid")):
            refusal = EgressRefusal(target=f"{host}:{port}", rule=Rule.UNRESOLVABLE)  # RFC 6761: never sent
        elif refusal is None:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
                )
                addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
            except OSError:
                refusal = EgressRefusal(target=f"{host}:{port}", rule=Rule.UNRESOLVABLE)
        for address in addresses:
            refusal = self.policy.check_host(
                host, as_address(address), port, path=path, plain_http=path is not None
            )
            if refusal is not None:
                continue
            try:
                upstream = await asyncio.wait_for(asyncio.open_connection(address, port), CONNECT_TIMEOUT_S)
                self.contacted.append(f"{host}:{port}")
                return upstream
            except (OSError, TimeoutError) as exc:
                log.debug("proxy: %s:%s (%s) unreachable: %s", host, port, address, exc)
                refusal = None
        if refusal is None:
            await _answer(writer, 502, f"cannot connect to {host}:{port}")
            return None
        self._refused(refusal)
        await _answer(writer, 403, refusal.message, refused=refusal)
        return None

    def _refused(self, refusal: EgressRefusal) -> None:
        if refusal.target.rpartition(":")[0] in BROWSER_SERVICE_HOSTS:
            return  # the browser's own background call, not the tenant's
        self.refusals.append(refusal)
        log.info("session %s: %s", self.label, refusal.message)
        if self.on_refused is not None:
            try:
                self.on_refused(refusal)
            except Exception:
                log.exception("egress refusal listener failed")


def _forwarded_headers(header_block: bytes) -> bytes:
    lines = [
        line
        for line in header_block.split(b"\r\n")
        if line and line.split(b":", 1)[0].strip().lower() not in _PROXY_HEADERS
    ]
    # One request per upstream connection: the next request may be for another host.
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"


def _close_response_head(head: bytes) -> bytes:
    status, _, block = head.partition(b"\r\n")
    lines = [
        line
        for line in block.split(b"\r\n")
        if line and line.split(b":", 1)[0].strip().lower() not in (b"connection", b"keep-alive")
    ]
    return b"\r\n".join([status, *lines, b"Connection: close"]) + b"\r\n\r\n"


async def _answer(
    writer: asyncio.StreamWriter, status: int, message: str, *, refused: EgressRefusal | None = None
) -> None:
    reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
    body = (
        "<!doctype html><title>Refused by lanterna</title>"
        f"<h1>{status} {reason}</h1><p>{_escape(message)}</p>"
    ).encode()
    rule = f"X-Lanterna-Egress-Rule: {refused.rule.value}\r\n" if refused is not None else ""
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n{rule}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    with contextlib.suppress(OSError):
        await writer.drain()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def _pipe_both(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    *,
    rewrite_response_head: bool = False,
) -> None:
    async def upstream_to_client() -> None:
        if rewrite_response_head:
            head = await up_reader.readuntil(b"\r\n\r\n")
            client_writer.write(_close_response_head(head))
        await _copy(up_reader, client_writer)

    tasks = [
        asyncio.create_task(_copy(client_reader, up_writer)),
        asyncio.create_task(upstream_to_client()),
    ]
    try:
        # The response ends the exchange; the browser's side may idle on a keep-alive socket.
        await asyncio.wait(
            [tasks[1]] if rewrite_response_head else tasks, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        up_writer.close()
        with contextlib.suppress(Exception):
            await up_writer.wait_closed()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(PIPE_CHUNK):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        return
    with contextlib.suppress(OSError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()
