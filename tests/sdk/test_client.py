"""Client configuration and connection errors (no server needed)."""

from __future__ import annotations

import gc
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


class _KeyRecorder(BaseHTTPRequestHandler):
    """Answers ``/health`` and keeps the Authorization header each request came with."""

    keys: list[str]

    def do_GET(self) -> None:
        self.keys.append(self.headers.get("Authorization", ""))
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def key_recorder() -> Iterator[tuple[str, list[str]]]:
    """A loopback server's URL and the API keys (Authorization headers) it has received."""
    keys: list[str] = []
    handler = type("Recorder", (_KeyRecorder,), {"keys": keys})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", keys
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _key_sent(client: Client, keys: list[str]) -> str:
    client.health()
    return keys[-1].removeprefix("Bearer ")


def test_missing_key_names_the_environment_variables(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(AuthenticationError) as raised:
        Client()
    assert "LANTERNA_API_KEY" in raised.value.message
    assert "NOTTE_API_KEY" in raised.value.message


def test_lanterna_variables_win_over_notte_ones(
    clean_env: pytest.MonkeyPatch, key_recorder: tuple[str, list[str]]
) -> None:
    url, keys = key_recorder
    clean_env.setenv("NOTTE_API_KEY", "notte-key")
    clean_env.setenv("NOTTE_API_URL", "http://127.0.0.1:1111")
    with Client() as client:
        assert client.server_url == "http://127.0.0.1:1111"
    clean_env.setenv("NOTTE_API_URL", url)
    with Client() as client:
        assert _key_sent(client, keys) == "notte-key"
    clean_env.setenv("LANTERNA_API_KEY", "lanterna-key")
    clean_env.setenv("LANTERNA_API_URL", "http://127.0.0.1:2222/")
    with NotteClient() as client:
        assert client.server_url == "http://127.0.0.1:2222"
    clean_env.setenv("LANTERNA_API_URL", url + "/")
    with NotteClient() as client:
        assert _key_sent(client, keys) == "lanterna-key"
    with Client(api_key="arg", server_url="http://127.0.0.1:3333") as client:
        assert client.server_url == "http://127.0.0.1:3333"
    with Client(api_key="arg", server_url=url) as client:
        assert _key_sent(client, keys) == "arg"


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
    before = set(threading.enumerate())
    client = Client(api_key="k", server_url=f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(ServerUnavailableError):
        client.health()
    started = [t for t in set(threading.enumerate()) - before if t.name == "lanterna-sdk"]
    assert len(started) == 1, started
    thread = started[0]
    assert thread.is_alive()
    del client
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()
