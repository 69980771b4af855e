"""Session downloads: kept after the session, fetched by link, out of reach of other tenants."""

from __future__ import annotations

import os
from urllib.parse import quote

import httpx
import pytest

from tests.fixtures.server import LanternaServer, started_session
from tests.server.test_profiles_api import _REPORT, login_site

__all__ = ["login_site"]


async def test_a_download_is_kept_after_the_session_and_only_for_its_tenant(
    lanterna_server: LanternaServer, login_site: str
) -> None:
    other_key = lanterna_server.new_key("downloads-other")
    async with lanterna_server.client() as api, lanterna_server.client(other_key) as other:
        async with started_session(api, use_file_storage=True) as session_id:
            goto = await api.post(
                f"/sessions/{session_id}/page/execute", json={"type": "goto", "url": f"{login_site}/download"}
            )
            assert goto.json()["success"], goto.text
            click = await api.post(
                f"/sessions/{session_id}/page/execute", json={"type": "download_file", "selector": "#dl"}
            )
            assert click.json()["success"], click.text
            live = (await api.get(f"/storage/{session_id}/downloads")).json()["files"]
            assert [f["name"] for f in live] == ["report.csv"]
        # the session is stopped: its browser and profile folder are gone, the file is kept
        files = (await api.get(f"/storage/{session_id}/downloads")).json()["files"]
        assert [(f["name"], f["size"]) for f in files] == [("report.csv", len(_REPORT))]
        link = (await api.get(f"/storage/{session_id}/downloads/report.csv")).json()["url"]
        async with httpx.AsyncClient() as anonymous:  # as notte's client fetches it: no key
            fetched = await anonymous.get(link)
            assert fetched.status_code == 200 and fetched.content == _REPORT
            tampered = await anonymous.get(link.replace("signature=", "signature=0"))
            assert tampered.status_code == 404
        kept = lanterna_server.home / "storage"
        stored = next(kept.glob(f"*/downloads/{session_id}/report.csv"))
        assert stored.stat().st_mode & 0o777 == 0o600

        # Another tenant: the session, its list and its files do not exist.
        assert (await other.get(f"/storage/{session_id}/downloads")).status_code == 404
        assert (await other.get(f"/storage/{session_id}/downloads/report.csv")).status_code == 404

        # A symlink planted next to the kept file is neither listed nor served.
        os.symlink("/etc/passwd", stored.parent / "passwd.txt")
        names = [f["name"] for f in (await api.get(f"/storage/{session_id}/downloads")).json()["files"]]
        assert names == ["report.csv"]
        assert (await api.get(f"/storage/{session_id}/downloads/passwd.txt")).status_code == 404


@pytest.mark.parametrize(
    "name", ["../report.csv", "..%2freport.csv", "%2e%2e", "/etc/passwd", "a\x00b", "x" * 4000, ".hidden"]
)
async def test_download_names_that_leave_the_folder_are_refused(
    lanterna_server: LanternaServer, name: str
) -> None:
    async with lanterna_server.client() as api, started_session(api) as session_id:
        response = await api.get(f"/storage/{session_id}/downloads/{quote(name, safe='')}")
        assert response.status_code in (404, 422), response.text
        assert "root:" not in response.text
