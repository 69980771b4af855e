"""The dashboard's cookie only works for the dashboard's own requests: no cross-site writes, no
cross-site WebSockets, and the key never comes back in a URL page scripts could read."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.fixtures.server import LanternaServer

pytestmark = pytest.mark.timeout(120)


@contextlib.contextmanager
def _signed_in(server: LanternaServer, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield _sign_in(client, server, key)


def _sign_in(client: httpx.Client, server: LanternaServer, key: str) -> httpx.Client:
    signed = client.post("/dashboard/sign-in", data={"api_key": key}, headers={"Origin": server.url})
    assert signed.status_code == 303 and "lanterna_key" in client.cookies
    assert "httponly" in signed.headers["set-cookie"].lower()
    assert "samesite=strict" in signed.headers["set-cookie"].lower()
    return client


def test_cookie_writes_need_the_dashboard_header_and_reads_hide_the_key(
    lanterna_server: LanternaServer,
) -> None:
    key = lanterna_server.new_key("cookie")
    with _signed_in(lanterna_server, key) as client:
        assert client.get("/sessions/").status_code == 200
        forged = client.post("/sessions/start", json={})  # what a cross-site form could send
        assert forged.status_code == 401
        started = client.post("/sessions/start", json={}, headers={"x-lanterna-dashboard": "1"})
        assert started.status_code == 200, started.text
        session_id = started.json()["session_id"]
        debug = client.get(f"/sessions/{session_id}/debug")
        assert debug.status_code == 200 and key not in debug.text
        stop = client.delete(f"/sessions/{session_id}/stop", headers={"x-lanterna-dashboard": "1"})
        assert stop.status_code == 200


def test_sign_in_from_another_site_is_refused(lanterna_server: LanternaServer) -> None:
    key = lanterna_server.new_key("cookie-csrf")
    with httpx.Client(base_url=lanterna_server.url, timeout=30) as client:
        response = client.post(
            "/dashboard/sign-in", data={"api_key": key}, headers={"Origin": "http://evil.test"}
        )
        assert response.status_code == 200 and "lanterna_key" not in client.cookies
        assert "own page" in response.text


async def test_cookie_websockets_must_come_from_this_origin(lanterna_server: LanternaServer) -> None:
    key = lanterna_server.new_key("cookie-ws")
    with _signed_in(lanterna_server, key) as client:
        session_id = client.post("/sessions/start", json={}, headers={"x-lanterna-dashboard": "1"}).json()[
            "session_id"
        ]
        cookie = f"lanterna_key={client.cookies['lanterna_key']}"
        url = lanterna_server.url.replace("http://", "ws://") + f"/sessions/{session_id}/recording"
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(
                url, additional_headers={"Cookie": cookie}, origin="http://evil.test"
            ):
                pass
        assert refused.value.response.status_code == 401
        own_origin = lanterna_server.url
        async with websockets.connect(
            url,
            additional_headers={"Cookie": cookie},
            origin=own_origin,  # type: ignore[arg-type]
        ) as ws:
            assert "viewport" in str(await ws.recv())
        client.delete(f"/sessions/{session_id}/stop", headers={"x-lanterna-dashboard": "1"})


def test_dashboard_pages_carry_a_strict_content_security_policy(lanterna_server: LanternaServer) -> None:
    for path in ("/", "/sessions/viewer/index.html"):
        response = httpx.get(lanterna_server.url + path, timeout=30)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(lanterna_server.url + "/dashboard/static/../dashboard.py", timeout=30).status_code == 404
