"""The same server on PostgreSQL (LANTERNA_TEST_DATABASE_URL): sessions, keys, tenants, restart."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.server import LanternaServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


def test_sessions_persist_in_postgresql(lanterna_server_pg: LanternaServer, demo_site: Any) -> None:
    server = lanterna_server_pg
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as http:
        session_id = http.post("/sessions/start", json={}).json()["session_id"]
        goto = http.post(f"/sessions/{session_id}/page/execute", json={"type": "goto", "url": demo_site.url})
        assert goto.json()["success"], goto.text
        scraped = http.post(f"/sessions/{session_id}/page/scrape", json={}).json()
        assert "Lantern" in scraped["markdown"]
        assert http.get("/sessions/?only_active=True").json()["total"] == 1

    other = {"Authorization": f"Bearer {server.new_key('pg-tenant-b')}"}
    assert httpx.get(f"{server.url}/sessions/{session_id}", headers=other).status_code == 404

    server.restart()
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as http:
        session = http.get(f"/sessions/{session_id}").json()
        assert (session["status"], session["error"]) == ("closed", "server shut down")
        assert http.get(f"/sessions/{session_id}/offset").json() == {"offset": 1}
