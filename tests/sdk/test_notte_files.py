"""Session downloads through the official notte-sdk 1.8.6: listed and fetched after the session."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.sdk import NotteRunner
from tests.server.test_profiles_api import _REPORT, login_site

__all__ = ["login_site"]  # the loopback site, with a file to download


def test_notte_download_is_fetched_after_the_session(
    notte: NotteRunner, login_site: str, tmp_path: Path
) -> None:
    out = notte.run(
        f"""
        from notte_sdk import NotteClient

        client = NotteClient()
        out = {{}}
        storage = client.FileStorage()
        with client.Session(storage=storage) as session:
            session.execute(type="goto", url={login_site + "/download"!r})
            out["click"] = session.execute(type="download_file", selector="#dl").success
            out["session_id"] = session.session_id
        out["listed"] = [f.name for f in client.files.list_downloaded_files(out["session_id"])]
        out["fetched"] = client.files.download(out["session_id"], "report.csv", {str(tmp_path)!r})
        try:
            client.files.download(out["session_id"], "../../etc/passwd", {str(tmp_path)!r})
            out["traversal"] = "fetched"
        except Exception as e:
            out["traversal"] = type(e).__name__
        emit(out)
        """
    )
    assert out["click"] is True
    assert out["listed"] == ["report.csv"]
    assert out["fetched"] is True
    assert (tmp_path / "report.csv").read_bytes() == _REPORT
    assert out["traversal"] != "fetched"


def test_notte_upload_downloaded_file_adds_to_the_sessions_downloads(
    notte: NotteRunner, tmp_path: Path
) -> None:
    local = tmp_path / "receipt.txt"
    local.write_bytes(b"paid in full")
    fetched = tmp_path / "fetched"
    out = notte.run(
        f"""
        import asyncio
        import os
        os.environ["NOTTE_CACHE_DIR"] = {str(tmp_path / "cache")!r}  # where get_file saves
        from notte_sdk import NotteClient

        client = NotteClient()
        out = {{}}
        storage = client.FileStorage()
        with client.Session(storage=storage) as session:
            sent = client.files.upload_downloaded_file(session.session_id, {str(local)!r})
            out["success"] = sent.success
            second = {str(local.parent / "second.txt")!r}
            open(second, "wb").write(b"second file")
            out["set_file"] = asyncio.run(storage.set_file(second))  # the storage object's way
            out["listed"] = [f.name for f in storage.list_downloaded_files()]
            got = asyncio.run(storage.get_file("second.txt"))
            out["got"] = open(got, "rb").read().decode() if got else None
            out["session_id"] = sid = session.session_id
            try:
                client.files.upload_downloaded_file(sid, {str(local)!r}, upload_file_name=".env")
                out["traversal"] = "accepted"
            except Exception as e:
                out["traversal"] = str(e)
        out["fetched"] = client.files.download(out["session_id"], "receipt.txt", {str(fetched)!r})
        try:
            client.files.upload_downloaded_file(out["session_id"], {str(local)!r})
            out["after"] = "accepted"
        except Exception as e:
            out["after"] = str(e)
        emit(out)
        """
    )
    assert out["success"] is True and out["set_file"] is True
    assert out["listed"] == ["receipt.txt", "second.txt"]
    assert out["got"] == "second file" and (tmp_path / "cache" / "downloads" / "second.txt").exists()
    assert "not an allowed file name" in out["traversal"]
    assert out["fetched"] is True and (fetched / "receipt.txt").read_bytes() == b"paid in full"
    assert "closed" in out["after"]
