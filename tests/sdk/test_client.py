"""Client configuration and connection errors (no server needed)."""

from __future__ import annotations

import gc
import socket

import pytest

from lanterna import Client, NotteClient
from lanterna.errors import AuthenticationError, ServerUnavailableError


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("LANTERNA_API_KEY", "LANTERNA_API_URL", "NOTTE_API_KEY", "NOTTE_API_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_missing_key_names_the_environment_variables(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(AuthenticationError) as raised:
        Client()
    assert "LANTERNA_API_KEY" in raised.value.message
    assert "NOTTE_API_KEY" in raised.value.message


def test_lanterna_variables_win_over_notte_ones(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("NOTTE_API_KEY", "notte-key")
    clean_env.setenv("NOTTE_API_URL", "http://127.0.0.1:1111")
    with Client() as client:
        assert client.server_url == "http://127.0.0.1:1111"
        assert client._transport.api_key == "notte-key"
    clean_env.setenv("LANTERNA_API_KEY", "lanterna-key")
    clean_env.setenv("LANTERNA_API_URL", "http://127.0.0.1:2222/")
    with NotteClient() as client:
        assert client.server_url == "http://127.0.0.1:2222"
        assert client._transport.api_key == "lanterna-key"
    with Client(api_key="arg", server_url="http://127.0.0.1:3333") as client:
        assert (client.server_url, client._transport.api_key) == ("http://127.0.0.1:3333", "arg")


def test_default_server_is_local(clean_env: pytest.MonkeyPatch) -> None:
    with Client(api_key="k") as client:
        assert client.server_url == "http://127.0.0.1:8000"


def test_unreachable_server_says_how_to_start_one(clean_env: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with Client(api_key="k", server_url=url) as client:
        with pytest.raises(ServerUnavailableError) as raised:
            client.Session().start()
        message = raised.value.message
        assert url in message and "lanterna serve" in message and "LANTERNA_API_URL" in message
        with pytest.raises(ServerUnavailableError):
            client.health()


def test_a_dropped_client_ends_its_thread(clean_env: pytest.MonkeyPatch) -> None:
    client = Client(api_key="k", server_url=f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(ServerUnavailableError):
        client.health()
    thread = client._loop._thread
    assert thread is not None and thread.is_alive()
    del client
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()
