"""Attacks on link-local and private addresses, run inside a network namespace of the test's own.

``test_egress_netns.py`` starts this as root under ``unshare --net --mount``: the namespace has
only a loopback interface, which also carries 169.254.169.254 (a fake cloud metadata service)
and 10.77.0.1 (a fake intranet host), both served here. So if a refusal fails, the request
reaches these fakes — counted — and no packet can leave the machine. Prints one JSON report.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

from lanterna.actions.execute import execute
from lanterna.browser import BrowserPool, BrowserSession
from lanterna.config import Settings
from lanterna.models.actions import Goto

METADATA, INTRANET = "169.254.169.254", "10.77.0.1"
HITS: dict[str, int] = {METADATA: 0, INTRANET: 0}


def _network() -> None:
    for command in (
        "ip link set lo up",
        f"ip addr add {METADATA}/32 dev lo",
        f"ip addr add {INTRANET}/32 dev lo",
    ):
        subprocess.run(command.split(), check=True)
    hosts = Path(tempfile.mkdtemp()) / "hosts"
    hosts.write_text(
        f"127.0.0.1 localhost\n::1 localhost\n{METADATA} metadata.test\n{INTRANET} intranet.test\n"
    )
    subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True)


class _Secret(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        host = self.server.server_address[0]
        if host != INTRANET or self.path != "/favicon.ico":  # asked for after each page shown
            HITS[str(host)] = HITS.get(str(host), 0) + 1
        self._send(f"SECRET from {host}")

    def _send(self, text: str, status: int = 200, location: str | None = None) -> None:
        data = text.encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _Attacker(_Secret):
    """The tenant's own page on loopback: redirects and scripts aimed at the fakes."""

    def do_GET(self) -> None:
        if self.path == "/redirect":
            self._send("", 302, f"http://{METADATA}/latest/meta-data/")
        else:
            self._send("<!doctype html><title>attacker</title>")


def _serve(handler: type[BaseHTTPRequestHandler], host: str, port: int) -> str:
    server = ThreadingHTTPServer((host, port), handler)
    Thread(target=server.serve_forever, daemon=True).start()
    return f"http://{host}:{server.server_address[1]}"


async def _goto(session: BrowserSession, url: str) -> dict[str, Any]:
    result = await execute(session, Goto(url=url))
    return {"success": result.success, "message": result.message}


async def _script_fetch(session: BrowserSession, page: str, url: str) -> str:
    await session.page.goto(page)
    outcome: str = await session.page.evaluate(
        "async (u) => { try { const r = await fetch(u); return r.status + ':' + await r.text() }"
        " catch (e) { return 'failed' } }",
        url,
    )
    return outcome


async def _attacks(page: str) -> dict[str, Any]:
    report: dict[str, Any] = {}
    async with BrowserPool(Settings(), size=0) as pool:
        session = await pool.acquire()
        for name, url in {
            "metadata": f"http://{METADATA}/latest/meta-data/",
            "metadata_by_name": "http://metadata.test/latest/meta-data/",
            "metadata_mapped_v6": f"http://[::ffff:{METADATA}]/",
            "metadata_numeric": "http://2852039166/",
            "metadata_https": f"https://{METADATA}/",
            "redirect_to_metadata": f"{page}/redirect",
            "intranet_default_mode": f"http://{INTRANET}:8080/",
        }.items():
            report[name] = await _goto(session, url)
        report["fetch_metadata"] = await _script_fetch(session, page, f"http://{METADATA}/")
        report["fetch_metadata_by_name"] = await _script_fetch(session, page, "http://metadata.test/")
        report["refusal_rules"] = sorted({r.rule.value for r in session.refusals})
        await pool.release(session)
    async with BrowserPool(Settings(egress="public-only"), size=0) as pool:
        session = await pool.acquire()
        report["public_only_intranet"] = await _goto(session, f"http://{INTRANET}:8080/")
        report["public_only_intranet_by_name"] = await _goto(session, "http://intranet.test:8080/")
        report["public_only_loopback"] = await _goto(session, page)
        await pool.release(session)
    allow = Settings(egress="public-only", egress_allow=f"{INTRANET}:8080")
    async with BrowserPool(allow, size=0) as pool:
        session = await pool.acquire()
        report["public_only_allowed_intranet"] = await _goto(session, f"http://{INTRANET}:8080/")
        await pool.release(session)
    return report


def main() -> None:
    _network()
    _serve(_Secret, METADATA, 80)
    _serve(_Secret, METADATA, 443)
    _serve(_Secret, INTRANET, 8080)
    page = _serve(_Attacker, "127.0.0.1", 0)
    report = asyncio.run(_attacks(page))
    report["hits"] = HITS
    sys.stdout.write("REPORT " + json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
