"""upload_file takes only files the tenant put in its upload storage (or its session downloaded).

Attacks: host paths, ``..``, a symlink placed in storage, another tenant's file, hostile names.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lanterna.errors import PayloadTooLargeError
from lanterna.sdk import Client
from lanterna.store.uploads import UploadStorage
from tests.fixtures.engine import StaticSite
from tests.fixtures.server import LanternaServer, started_session

HOW_TO = "POST /storage/uploads/{name}"


@pytest.fixture
async def api(lanterna_server: LanternaServer) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh tenant (its own key), so its storage starts empty."""
    async with lanterna_server.client(lanterna_server.new_key("uploads")) as client:
        yield client


@pytest.fixture
async def upload_page(api: httpx.AsyncClient, static_site: StaticSite) -> AsyncIterator[str]:
    """A session of the tenant showing a page with a file input ``#doc``."""
    async with started_session(api) as session_id:
        opened = await _execute(api, session_id, type="goto", url=static_site.page("upload.html"))
        assert opened["success"], opened
        yield session_id


async def _execute(api: httpx.AsyncClient, session_id: str, **action: Any) -> dict[str, Any]:
    response = await api.post(f"/sessions/{session_id}/page/execute", json=action)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _upload_file(api: httpx.AsyncClient, session_id: str, file_path: str) -> dict[str, Any]:
    return await _execute(api, session_id, type="upload_file", selector="#doc", file_path=file_path)


async def _chosen_file(api: httpx.AsyncClient, session_id: str) -> str:
    """What the page reads from the file input (nothing: '')."""
    code = (
        "(async () => { const f = document.getElementById('doc').files[0]; "
        "return f ? await f.text() : ''; })()"
    )
    result = await _execute(api, session_id, type="evaluate_js", code=code)
    assert result["success"], result
    text: str = result["data"]["markdown"]
    return text


def _folder_of(server: LanternaServer, name: str) -> Path:
    """The uploads folder on disk holding ``name`` (the tenant's, since names are unique per test)."""
    found = list((server.home / "storage").glob(f"*/uploads/{name}"))
    assert len(found) == 1, found
    return found[0].parent


async def test_upload_then_put_it_in_a_page(
    api: httpx.AsyncClient, upload_page: str, lanterna_server: LanternaServer
) -> None:
    stored = await api.post(
        "/storage/uploads/hello-upload.txt", files={"file": ("ignored.txt", b"hello from storage")}
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["success"] is True and stored.json()["file"]["size"] == 18
    listed = (await api.get("/storage/uploads")).json()["files"]
    assert [(f["name"], f["size"], f["file_ext"]) for f in listed] == [("hello-upload.txt", 18, "txt")]
    on_disk = _folder_of(lanterna_server, "hello-upload.txt") / "hello-upload.txt"
    assert stat.S_IMODE(on_disk.stat().st_mode) == 0o600

    result = await _upload_file(api, upload_page, "hello-upload.txt")
    assert result["success"], result
    assert await _chosen_file(api, upload_page) == "hello from storage"

    raw = await api.post("/storage/uploads/raw.csv", content=b"a,b\n1,2\n")  # a raw body works too
    assert raw.status_code == 200 and raw.json()["file"]["name"] == "raw.csv"


@pytest.mark.parametrize("file_path", ["/etc/passwd", "../../etc/passwd", "/proc/self/environ", "passwd"])
async def test_host_paths_are_refused(api: httpx.AsyncClient, upload_page: str, file_path: str) -> None:
    result = await _upload_file(api, upload_page, file_path)
    assert result["success"] is False
    assert f"{file_path!r} is not one of your files" in result["message"] and HOW_TO in result["message"]
    assert await _chosen_file(api, upload_page) == ""


async def test_a_symlink_in_storage_is_not_followed(
    api: httpx.AsyncClient, upload_page: str, lanterna_server: LanternaServer
) -> None:
    await api.post("/storage/uploads/innocent.txt", content=b"mine")
    folder = _folder_of(lanterna_server, "innocent.txt")
    (folder / "evil.txt").symlink_to("/etc/passwd")  # as if someone had placed it there
    result = await _upload_file(api, upload_page, "evil.txt")
    assert result["success"] is False and HOW_TO in result["message"]
    assert "evil.txt" not in [f["name"] for f in (await api.get("/storage/uploads")).json()["files"]]
    # Uploading under the symlink's name replaces the link; it never writes through it.
    passwd = Path("/etc/passwd").read_bytes()
    assert (await api.post("/storage/uploads/evil.txt", content=b"replaced")).status_code == 200
    assert Path("/etc/passwd").read_bytes() == passwd and not (folder / "evil.txt").is_symlink()
    assert await _chosen_file(api, upload_page) == ""


async def test_another_tenants_upload_is_out_of_reach(
    api: httpx.AsyncClient, upload_page: str, lanterna_server: LanternaServer
) -> None:
    other_key = lanterna_server.new_key("uploads-other")
    async with httpx.AsyncClient(
        base_url=lanterna_server.url, headers={"Authorization": f"Bearer {other_key}"}, timeout=30
    ) as other:
        assert (await other.post("/storage/uploads/theirs-secret.txt", content=b"secret")).status_code == 200
    theirs = _folder_of(lanterna_server, "theirs-secret.txt") / "theirs-secret.txt"
    assert "theirs-secret.txt" not in [f["name"] for f in (await api.get("/storage/uploads")).json()["files"]]
    for file_path in (
        "theirs-secret.txt",
        str(theirs),
        f"../../{theirs.parent.parent.name}/uploads/{theirs.name}",
    ):
        result = await _upload_file(api, upload_page, file_path)
        assert result["success"] is False and HOW_TO in result["message"], file_path
    assert await _chosen_file(api, upload_page) == ""


@pytest.mark.parametrize(
    "name", ["%2e%2e%2fetc%2fpasswd", "%2e%2e", ".bashrc", "a%2fb", "x" * 200, "semi;colon", "%20lead"]
)
async def test_hostile_names_are_refused(api: httpx.AsyncClient, name: str) -> None:
    response = await api.post(f"/storage/uploads/{name}", content=b"x")
    assert response.status_code == 422, response.text
    assert (
        "is not an allowed file name; use a plain file name of 1-128 characters" in response.json()["message"]
    )
    assert (await api.get("/storage/uploads")).json()["files"] == []


async def test_size_caps_per_file_per_tenant_and_count(tmp_path: Path) -> None:
    storage = UploadStorage(tmp_path, max_file_bytes=10, max_tenant_bytes=15, max_files=2)

    async def body(data: bytes) -> AsyncIterator[bytes]:
        yield data

    await storage.save("key_a", "one.txt", body(b"0123456789"))
    with pytest.raises(PayloadTooLargeError, match="larger than"):
        await storage.save("key_a", "big.txt", body(b"x" * 11))
    with pytest.raises(PayloadTooLargeError, match="may total"):
        await storage.save("key_a", "two.txt", body(b"x" * 6))
    await storage.save("key_a", "two.txt", body(b"x" * 5))
    with pytest.raises(PayloadTooLargeError, match="2 files"):
        await storage.save("key_a", "three.txt", body(b""))
    await storage.save("key_b", "one.txt", body(b"9876543210"))  # caps are per tenant
    assert [f.name for f in storage.list("key_a")] == ["one.txt", "two.txt"]
    assert not [p for p in (tmp_path / "storage" / "key_a" / "uploads").iterdir() if p.name.startswith(".")]
    assert (tmp_path / "storage" / "key_a" / "uploads" / "one.txt").read_bytes() == b"0123456789"


async def test_lanterna_sdk_uploads(
    lanterna_server: LanternaServer, upload_page: str, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    local = tmp_path / "from-sdk.txt"
    local.write_text("sent by the lanterna sdk")
    key = api.headers["Authorization"].removeprefix("Bearer ")

    def use_sdk() -> list[str]:
        with Client(api_key=key, server_url=lanterna_server.url) as client:
            info = client.files.upload(local)
            assert info.name == "from-sdk.txt" and info.size == local.stat().st_size
            return [f.name for f in client.files.list()]

    assert "from-sdk.txt" in await asyncio.to_thread(use_sdk)
    assert (await _upload_file(api, upload_page, "from-sdk.txt"))["success"]
    assert await _chosen_file(api, upload_page) == "sent by the lanterna sdk"


async def test_notte_client_uploads(
    lanterna_server: LanternaServer, upload_page: str, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    local = tmp_path / "from-notte.txt"
    local.write_text("sent by notte-sdk")
    script = textwrap.dedent(
        f"""
        from notte_sdk import NotteClient
        client = NotteClient()
        assert client.files.upload({str(local)!r}).success
        print([f.name for f in client.files.list_uploaded_files()])
        """
    )
    key = api.headers["Authorization"].removeprefix("Bearer ")
    env = {**lanterna_server.client_env, "NOTTE_API_KEY": key, "NOTTE_CACHE_DIR": str(tmp_path / "cache")}
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "from-notte.txt" in done.stdout
    assert (await _upload_file(api, upload_page, "from-notte.txt"))["success"]
    assert await _chosen_file(api, upload_page) == "sent by notte-sdk"
    assert os.environ.get("NOTTE_API_KEY") != key  # the key stayed in the subprocess
