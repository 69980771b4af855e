"""A refused WebSocket says why: an HTTP denial with the JSON error body, never an empty 403."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import connect

from tests.fixtures.server import LanternaServer

NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"


async def _refusal(url: str) -> tuple[int, dict[str, Any]]:
    """Open ``url``; it must be refused. Returns the HTTP status and the JSON body of the denial."""
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(url, open_timeout=30):
            pass
    response = refused.value.response
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body: dict[str, Any] = json.loads(response.body or b"{}")
    assert body["status"] == response.status_code, body
    return response.status_code, body


def _ws(server: LanternaServer, path: str) -> str:
    return "ws://" + server.url.removeprefix("http://") + path


@pytest.mark.parametrize("path", ["/nope", "/sessions", f"/sessions/{NO_SUCH_ID}/recorder", "/demo/x"])
async def test_an_unknown_websocket_path_is_a_404_naming_the_endpoints(
    lanterna_server: LanternaServer, path: str
) -> None:
    status, body = await _refusal(_ws(lanterna_server, f"{path}?token={lanterna_server.api_key}"))
    assert status == 404
    assert f"no WebSocket endpoint at {path}" in body["message"]
    assert "/agents/{agent_id}/debug/logs" in body["message"]  # says where to connect instead


@pytest.mark.parametrize(
    "path",
    [
        f"/agents/{NO_SUCH_ID}/debug/logs",
        f"/sessions/{NO_SUCH_ID}/cdp",
        f"/sessions/{NO_SUCH_ID}/cdp/page/ABC123",
        f"/sessions/{NO_SUCH_ID}/recording",
    ],
)
@pytest.mark.parametrize(
    ("query", "expected"), [("?token=lt_not_a_key", "invalid or revoked API key"), ("", "missing API key")]
)
async def test_a_bad_or_missing_token_is_a_401_saying_how_to_authenticate(
    lanterna_server: LanternaServer, path: str, query: str, expected: str
) -> None:
    status, body = await _refusal(_ws(lanterna_server, path + query))
    assert status == 401
    assert expected in body["message"] and "?token=<api key>" in body["message"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/agents/{NO_SUCH_ID}/debug/logs", f"agent {NO_SUCH_ID} not found"),
        (f"/sessions/{NO_SUCH_ID}/cdp", NO_SUCH_ID),
    ],
)
async def test_someone_elses_or_an_unknown_id_is_a_404(
    lanterna_server: LanternaServer, path: str, expected: str
) -> None:
    status, body = await _refusal(_ws(lanterna_server, f"{path}?token={lanterna_server.api_key}"))
    assert status == 404 and expected in body["message"]


async def test_a_nul_byte_in_a_websocket_url_is_a_422(lanterna_server: LanternaServer) -> None:
    status, body = await _refusal(
        _ws(lanterna_server, f"/agents/%00/debug/logs?token={lanterna_server.api_key}")
    )
    assert status == 422 and "NUL character" in body["message"]
