"""Persistent profiles over HTTP: a login made in one session is there in the next one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.fixtures.server import LanternaServer, started_session

_LOGIN = b"""<html><body><p>logged in</p>
<script>localStorage.setItem('token', 'ls-secret-42')</script></body></html>"""
_WHOAMI = """<html><body><p id="cookie">cookie=[{cookie}]</p><p id="ls"></p>
<script>document.getElementById('ls').textContent = 'ls=[' + (localStorage.getItem('token') || '') + ']'
</script></body></html>"""


_REPORT = b"id,total\n1,42\n"


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/report.csv":
            body, extra = _REPORT, [("Content-Disposition", 'attachment; filename="report.csv"')]
        elif self.path == "/download":
            body, extra = b'<html><body><a id="dl" href="/report.csv">report</a></body></html>', []
        elif self.path == "/login":
            body = _LOGIN
            extra = [("Set-Cookie", "login=cookie-secret-7; Path=/; HttpOnly; Max-Age=3600")]
        else:
            body = _WHOAMI.format(cookie=self.headers.get("Cookie", "")).encode()
            extra = []
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def login_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def _whoami(api: httpx.AsyncClient, session_id: str, site: str) -> str:
    goto = await api.post(
        f"/sessions/{session_id}/page/execute", json={"type": "goto", "url": f"{site}/whoami"}
    )
    assert goto.status_code == 200 and goto.json()["success"], goto.text
    scrape = await api.post(f"/sessions/{session_id}/page/scrape", json={"only_main_content": False})
    assert scrape.status_code == 200, scrape.text
    return str(scrape.json()["markdown"])


async def test_profile_carries_login_to_next_session_only_for_its_tenant(
    lanterna_server: LanternaServer, login_site: str
) -> None:
    other_key = lanterna_server.new_key("profiles-other")
    async with lanterna_server.client() as api, lanterna_server.client(other_key) as other:
        created = await api.post("/profiles/create", json={"name": "shop-login"})
        assert created.status_code == 200, created.text
        profile_id = created.json()["profile_id"]
        assert created.json()["persisted_domains"] == []

        async with started_session(api, profile={"id": profile_id, "persist": True}) as first:
            login = await api.post(
                f"/sessions/{first}/page/execute", json={"type": "goto", "url": f"{login_site}/login"}
            )
            assert login.json()["success"], login.text
            # A second session saving into the same profile is refused, naming the first.
            second = await api.post("/sessions/start", json={"profile": {"id": profile_id, "persist": True}})
            assert second.status_code == 409 and first in second.json()["message"], second.text
        # stopped: the state was saved back
        saved = (await api.get(f"/profiles/{profile_id}")).json()
        assert saved["persisted_domains"] == ["127.0.0.1"], saved

        async with started_session(api, profile={"id": profile_id}) as again:
            page = await _whoami(api, again, login_site)
        assert "login=cookie-secret-7" in page and "ls=[ls-secret-42]" in page, page

        async with started_session(api) as plain:
            page = await _whoami(api, plain, login_site)
        assert "cookie-secret-7" not in page and "ls=[]" in page, page

        # Another tenant can neither see the profile nor start from it.
        assert (await other.get(f"/profiles/{profile_id}")).status_code == 404
        assert (await other.delete(f"/profiles/{profile_id}")).status_code == 404
        assert profile_id not in str((await other.get("/profiles")).json())
        refused = await other.post("/sessions/start", json={"profile": {"id": profile_id}})
        assert refused.status_code == 404, refused.text
        own = (await other.post("/profiles/create", json={})).json()["profile_id"]
        async with started_session(other, profile={"id": own}) as theirs:
            page = await _whoami(other, theirs, login_site)
        assert "cookie-secret-7" not in page and "ls-secret-42" not in page, page

        listed = (await api.get("/profiles", params={"name": "shop-login"})).json()
        assert [p["profile_id"] for p in listed["items"]] == [profile_id]
        deleted = await api.delete(f"/profiles/{profile_id}")
        assert deleted.status_code == 200 and deleted.json()["success"] is True
        assert (await api.get(f"/profiles/{profile_id}")).status_code == 404


@pytest.mark.parametrize(
    "profile_id", ["../../etc/passwd", "notte-profile-../../x", "%2e%2e%2fx", "a" * 5000, "notte-profile-zz"]
)
async def test_profile_ids_that_are_not_ids_are_refused(
    lanterna_server: LanternaServer, profile_id: str
) -> None:
    async with lanterna_server.client() as api:
        response = await api.post("/sessions/start", json={"profile": {"id": profile_id}})
        assert response.status_code in (404, 422), response.text
        assert (await api.get(f"/profiles/{profile_id}")).status_code in (404, 422)
        unknown = await api.post(
            "/sessions/start", json={"profile": {"id": "x", "persist": True, "other": 1}}
        )
        assert unknown.status_code == 422 and "other" in unknown.text


async def test_a_session_that_times_out_still_saves_its_profile(
    lanterna_server: LanternaServer, login_site: str
) -> None:
    async with lanterna_server.client() as api:
        profile_id = (await api.post("/profiles/create", json={})).json()["profile_id"]
        start = await api.post(
            "/sessions/start",
            json={"profile": {"id": profile_id, "persist": True}, "idle_timeout_minutes": 1},
        )
        session_id = start.json()["session_id"]
        login = await api.post(
            f"/sessions/{session_id}/page/execute", json={"type": "goto", "url": f"{login_site}/login"}
        )
        assert login.json()["success"], login.text
        for _ in range(120):  # the idle timeout is one minute; the pool reaps within seconds of it
            status = (await api.get(f"/sessions/{session_id}")).json()["status"]
            if status != "active":
                break
            await asyncio.sleep(1)
        assert status == "timed_out"
        for _ in range(50):  # the save runs as the browser is released
            if (await api.get(f"/profiles/{profile_id}")).json()["persisted_domains"]:
                break
            await asyncio.sleep(0.1)
        async with started_session(api, profile={"id": profile_id}) as again:
            page = await _whoami(api, again, login_site)
        assert "login=cookie-secret-7" in page and "ls=[ls-secret-42]" in page, page


_IDB_WRITE = """(async () => {
  const db = await new Promise((ok, no) => {
    const open = indexedDB.open('shop', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('cart', { keyPath: 'id' });
    open.onsuccess = () => ok(open.result);
    open.onerror = () => no(open.error);
  });
  await new Promise((ok, no) => {
    const tx = db.transaction('cart', 'readwrite');
    tx.objectStore('cart').put({ id: 'item-1', title: 'idb-kept-record', qty: 3 });
    tx.oncomplete = ok;
    tx.onerror = () => no(tx.error);
  });
  db.close();
  return 'written';
})()"""

_IDB_READ = """(async () => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  if (!names.includes('shop')) return 'no database';
  const db = await new Promise((ok, no) => {
    const open = indexedDB.open('shop', 1);
    open.onsuccess = () => ok(open.result);
    open.onerror = () => no(open.error);
  });
  const row = await new Promise((ok, no) => {
    const get = db.transaction('cart').objectStore('cart').get('item-1');
    get.onsuccess = () => ok(get.result);
    get.onerror = () => no(get.error);
  });
  db.close();
  return row ? row.title + ' x' + row.qty : 'no record';
})()"""


async def _run_js(api: httpx.AsyncClient, session_id: str, site: str, code: str) -> str:
    execute = f"/sessions/{session_id}/page/execute"
    goto = await api.post(execute, json={"type": "goto", "url": f"{site}/app"})
    assert goto.json()["success"], goto.text
    result = await api.post(execute, json={"type": "evaluate_js", "code": code})
    assert result.json()["success"], result.text
    return str(result.json()["data"]["markdown"])


async def test_indexeddb_written_in_one_session_is_read_in_the_next_on_the_profile(
    lanterna_server: LanternaServer, login_site: str
) -> None:
    async with lanterna_server.client() as api:
        profile_id = (await api.post("/profiles/create", json={"name": "idb"})).json()["profile_id"]
        async with started_session(api, profile={"id": profile_id, "persist": True}) as first:
            assert await _run_js(api, first, login_site, _IDB_WRITE) == "written"
        async with started_session(api, profile={"id": profile_id}) as second:
            assert await _run_js(api, second, login_site, _IDB_READ) == "idb-kept-record x3"
        async with started_session(api) as plain:  # a session without the profile has none of it
            assert await _run_js(api, plain, login_site, _IDB_READ) == "no database"
