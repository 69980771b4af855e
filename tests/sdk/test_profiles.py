"""Persistent profiles through lanterna's own SDK: ``client.profiles`` and ``Session(profile=...)``."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanterna import Client
from lanterna.errors import ConflictError, InvalidRequestError, NotFoundError
from tests.server.test_profiles_api import _REPORT, login_site

__all__ = ["login_site"]  # the loopback site that logs a browser in


def test_profile_namespace_and_session_profile(client: Client, login_site: str) -> None:
    profile = client.profiles.create(name="sdk-login")
    with client.Session(profile={"id": profile.profile_id, "persist": True}) as session:
        session.execute(type="goto", url=f"{login_site}/login")
    assert client.profiles.get(profile.profile_id).persisted_domains == ["127.0.0.1"]
    with client.Session(profile={"id": profile.profile_id}) as session:
        session.execute(type="goto", url=f"{login_site}/whoami")
        page = session.scrape(only_main_content=False)
    assert "login=cookie-secret-7" in page and "ls=[ls-secret-42]" in page
    assert [p.profile_id for p in client.profiles.list(name="sdk-login")] == [profile.profile_id]
    assert client.profiles.delete(profile.profile_id) is True
    with pytest.raises(NotFoundError):
        client.profiles.get(profile.profile_id)


def test_session_downloads_through_the_sdk(client: Client, login_site: str) -> None:
    with client.Session() as session:
        session.execute(type="goto", url=f"{login_site}/download")
        session.execute(type="download_file", selector="#dl")
        session_id = session.session_id
    assert [f.name for f in client.files.downloads(session_id)] == ["report.csv"]
    assert client.files.download(session_id, "report.csv") == _REPORT
    with pytest.raises(NotFoundError):
        client.files.download(session_id, "../report.csv")


def test_a_local_file_added_to_a_sessions_downloads_through_the_sdk(client: Client, tmp_path: Path) -> None:
    local = tmp_path / "statement.pdf"
    local.write_bytes(b"%PDF-1.4 sent")
    with client.Session() as session:
        added = client.files.add_download(session.session_id, local)
        assert (added.name, added.size, added.file_ext) == ("statement.pdf", 13, "pdf")
        assert [f.name for f in client.files.downloads(session.session_id)] == ["statement.pdf"]
        with pytest.raises(InvalidRequestError, match="not an allowed file name"):
            client.files.add_download(session.session_id, local, name=".env")
    assert client.files.download(session.session_id, "statement.pdf") == b"%PDF-1.4 sent"
    with pytest.raises(ConflictError):  # the session has ended: its downloads are final
        client.files.add_download(session.session_id, local)
