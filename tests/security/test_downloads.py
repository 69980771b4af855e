"""Session downloads: kept after the session, fetched by link, out of reach of other tenants."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from lanterna.errors import PayloadTooLargeError
from lanterna.models.retention import RetentionPolicy
from lanterna.store.downloads import DownloadStorage
from tests.fixtures.engine import StaticSite
from tests.fixtures.server import LanternaServer, launch_server, started_session
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


# --- files sent into a session's downloads (notte's client.files.upload_downloaded_file) ----------


async def test_a_file_sent_to_a_running_session_is_a_download_kept_after_it(
    lanterna_server: LanternaServer, static_site: StaticSite
) -> None:
    async with lanterna_server.client(lanterna_server.new_key("sent-downloads")) as api:
        async with started_session(api) as session_id:
            sent = await api.post(
                f"/storage/{session_id}/downloads/invoice.txt",
                files={"file": ("x.txt", b"sent by the client")},
            )
            assert sent.status_code == 200, sent.text
            assert sent.json()["success"] is True and sent.json()["file"]["name"] == "invoice.txt"
            listed = (await api.get(f"/storage/{session_id}/downloads")).json()["files"]
            assert [f["name"] for f in listed] == ["invoice.txt"]
            # upload_file offers the session's downloads: the page receives the bytes
            page = await api.post(
                f"/sessions/{session_id}/page/execute",
                json={"type": "goto", "url": static_site.page("upload.html")},
            )
            assert page.json()["success"], page.text
            put = await api.post(
                f"/sessions/{session_id}/page/execute",
                json={"type": "upload_file", "selector": "#doc", "file_path": "invoice.txt"},
            )
            assert put.json()["success"], put.text
            read = await api.post(
                f"/sessions/{session_id}/page/execute",
                json={"type": "evaluate_js", "code": "document.getElementById('doc').files[0].text()"},
            )
            assert read.json()["data"]["markdown"] == "sent by the client"
        # stopped: kept with the session's downloads and fetched by link
        kept = (await api.get(f"/storage/{session_id}/downloads")).json()["files"]
        assert [(f["name"], f["size"]) for f in kept] == [("invoice.txt", 18)]
        link = (await api.get(f"/storage/{session_id}/downloads/invoice.txt")).json()["url"]
        async with httpx.AsyncClient() as anonymous:
            assert (await anonymous.get(link)).content == b"sent by the client"


@pytest.mark.parametrize(
    "name", ["../escape.txt", "..%2fescape.txt", "%2e%2e", "sub/escape.txt", ".hidden", "x" * 4000, "a\x00b"]
)
async def test_sent_download_names_that_leave_the_folder_are_refused(
    lanterna_server: LanternaServer, name: str
) -> None:
    async with lanterna_server.client() as api, started_session(api) as session_id:
        response = await api.post(
            f"/storage/{session_id}/downloads/{quote(name, safe='')}", content=b"escape"
        )
        assert response.status_code in (404, 422), response.text
        if response.status_code == 422:  # says what to change
            assert (
                "not an allowed file name" in response.json()["message"]
                or "NUL" in response.json()["message"]
            )
        assert not list(lanterna_server.home.rglob("escape.txt"))
        assert (await api.get(f"/storage/{session_id}/downloads")).json()["files"] == []


async def test_no_file_is_sent_into_another_tenants_or_an_unknown_or_ended_session(
    lanterna_server: LanternaServer,
) -> None:
    other_key = lanterna_server.new_key("sent-downloads-other")
    async with lanterna_server.client() as api, lanterna_server.client(other_key) as other:
        async with started_session(api) as session_id:
            theirs = await other.post(f"/storage/{session_id}/downloads/planted.txt", content=b"planted")
            assert theirs.status_code == 404, theirs.text
            assert (await api.get(f"/storage/{session_id}/downloads")).json()["files"] == []
        ended = await api.post(f"/storage/{session_id}/downloads/late.txt", content=b"late")
        assert ended.status_code == 409, ended.text
        assert "closed" in ended.json()["message"] or "ended" in ended.json()["message"]
        unknown = await api.post(
            f"/storage/{'0' * 8}-0000-0000-0000-{'0' * 12}/downloads/x.txt", content=b"x"
        )
        assert unknown.status_code == 404, unknown.text
        assert "GET /sessions" in unknown.json()["message"]
        assert (await api.get(f"/storage/{session_id}/downloads")).json()["files"] == []
        assert not list(lanterna_server.home.rglob("planted.txt")) and not list(
            lanterna_server.home.rglob("late.txt")
        )


async def test_a_download_link_outlives_a_server_restart(tmp_path: Path) -> None:
    with launch_server(tmp_path / "home") as server:
        async with server.client() as api:
            async with started_session(api) as session_id:
                sent = await api.post(f"/storage/{session_id}/downloads/kept.txt", content=b"still here")
                assert sent.status_code == 200, sent.text
            link = (await api.get(f"/storage/{session_id}/downloads/kept.txt")).json()["url"]
        server.restart()
        async with httpx.AsyncClient() as anonymous:
            fetched = await anonymous.get(link)  # the same port after the restart
            assert fetched.status_code == 200 and fetched.content == b"still here"
        key = tmp_path / "home" / "vault.key"
        assert key.stat().st_mode & 0o777 == 0o600  # what the link key derives from


# --- retention ------------------------------------------------------------------------------------

_SESSION_A = "aaaaaaaa-0000-0000-0000-000000000001"
_SESSION_B = "aaaaaaaa-0000-0000-0000-000000000002"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _kept_file(
    storage: DownloadStorage, tenant: str, session_id: str, name: str, size: int, age_h: float
) -> Path:
    folder = storage.folder(tenant, session_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"x" * size)
    stamp = (NOW - timedelta(hours=age_h)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_retention_removes_old_downloads_and_a_tenants_oldest_past_its_cap(tmp_path: Path) -> None:
    storage = DownloadStorage(
        tmp_path,
        max_file_bytes=1000,
        max_files=10,
        policy=RetentionPolicy(max_age_s=24 * 3600, max_total_bytes=250),
    )
    too_old = _kept_file(storage, "tenant-a", _SESSION_A, "old.csv", 10, age_h=30)
    oldest = _kept_file(storage, "tenant-a", _SESSION_A, "first.csv", 100, age_h=5)
    middle = _kept_file(storage, "tenant-a", _SESSION_B, "second.csv", 100, age_h=3)
    newest = _kept_file(storage, "tenant-a", _SESSION_B, "third.csv", 100, age_h=1)
    # another tenant with 240 bytes, within its own cap of 250
    theirs = [_kept_file(storage, "tenant-b", _SESSION_A, f"b{i}.csv", 80, age_h=2 + i) for i in range(3)]

    report = storage.enforce(now=NOW)

    assert not too_old.exists() and not oldest.exists()  # past the age; then the oldest over the cap
    assert middle.exists() and newest.exists()
    assert [p.exists() for p in theirs] == [True, True, True]  # 240 bytes: within its cap
    assert report.deleted == 2 and report.freed_bytes == 110
    assert storage.tenant_bytes("tenant-a") == 200
    assert storage.enforce(now=NOW).deleted == 0  # nothing more to do


async def test_a_sent_download_that_does_not_fit_the_tenants_cap_is_refused(tmp_path: Path) -> None:
    storage = DownloadStorage(
        tmp_path,
        max_file_bytes=1000,
        max_files=10,
        policy=RetentionPolicy(max_age_s=3600, max_total_bytes=250),
    )
    _kept_file(storage, "tenant-a", _SESSION_A, "kept.csv", 200, age_h=0)
    live = tmp_path / "live-downloads"
    live.mkdir()

    async def content(size: int) -> AsyncIterator[bytes]:
        yield b"y" * size

    with pytest.raises(PayloadTooLargeError, match="50 bytes are left"):
        await storage.add("tenant-a", _SESSION_B, live, "big.bin", content(60))
    assert list(live.iterdir()) == []  # nothing half-written is left
    added = await storage.add("tenant-a", _SESSION_B, live, "small.bin", content(50))
    assert added.size == 50 and (live / "small.bin").stat().st_mode & 0o777 == 0o600
    # another tenant has its own room
    assert (await storage.add("tenant-b", _SESSION_B, tmp_path, "b.bin", content(240))).size == 240


async def test_the_server_applies_download_retention_and_the_tenant_cap(tmp_path: Path) -> None:
    settings = {
        "LANTERNA_DOWNLOAD_RETENTION_HOURS": "0.002",  # 7.2 s
        "LANTERNA_DOWNLOAD_RETENTION_INTERVAL_S": "0.2",
        "LANTERNA_DOWNLOAD_MAX_TENANT_MB": "0.001",  # 1048 bytes
    }
    with launch_server(tmp_path / "home", extra_env=settings) as server:
        async with server.client() as api:
            async with started_session(api) as session_id:
                over = await api.post(f"/storage/{session_id}/downloads/big.bin", content=b"b" * 2000)
                assert over.status_code == 413, over.text
                assert "may total 1048 bytes" in over.json()["message"]
                sent = await api.post(f"/storage/{session_id}/downloads/brief.txt", content=b"soon gone")
                assert sent.status_code == 200, sent.text
            listed = (await api.get(f"/storage/{session_id}/downloads")).json()["files"]
            assert [f["name"] for f in listed] == ["brief.txt"]
            deadline = asyncio.get_running_loop().time() + 30
            while (await api.get(f"/storage/{session_id}/downloads")).json()["files"]:
                assert asyncio.get_running_loop().time() < deadline, "retention never removed the download"
                await asyncio.sleep(0.2)
        assert not list((tmp_path / "home" / "storage").glob("*/downloads/*/brief.txt"))
