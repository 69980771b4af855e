"""Hostile input gets a 4xx that names the limit, never a 500: huge numbers, huge strings, NUL bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from lanterna.wire import AgentStartRequest, SessionStartRequest
from tests.fixtures.server import LanternaServer

HUGE = 10**30
NO_SUCH_SESSION = "00000000-0000-0000-0000-000000000000"
EXECUTE = f"/sessions/{NO_SUCH_SESSION}/page/execute"


@pytest.fixture
async def api(lanterna_server: LanternaServer) -> AsyncIterator[httpx.AsyncClient]:
    async with lanterna_server.client() as client:
        yield client


def _message(response: httpx.Response, status: int = 422) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    message: str = body["message"]
    return message


@pytest.mark.parametrize("path", ["/sessions", "/agents"])
@pytest.mark.parametrize(("name", "limit"), [("page", "100000"), ("page_size", "100")])
async def test_a_page_past_the_limit_is_a_422_naming_it(
    api: httpx.AsyncClient, path: str, name: str, limit: str
) -> None:
    message = _message(await api.get(path, params={name: str(HUGE)}))
    assert f"query parameter field '{name}' must be at most {limit}; got {HUGE}" in message


async def test_the_last_page_allowed_answers_empty(api: httpx.AsyncClient) -> None:
    response = await api.get("/sessions", params={"page": 100_000, "page_size": 100})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


async def test_a_megabyte_user_agent_is_a_422_not_a_browser_launch(api: httpx.AsyncClient) -> None:
    message = _message(await api.post("/sessions/start", json={"user_agent": "x" * 1_000_000}))
    assert "'user_agent' is too long: at most 1024 characters" in message


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        ("Mozilla/5.0\r\nX-Injected: 1", "control character '\\r'"),
        ("Mozilla/5.0\x00", "NUL character"),
    ],
)
async def test_a_user_agent_must_be_one_printable_line(
    api: httpx.AsyncClient, user_agent: str, expected: str
) -> None:
    message = _message(await api.post("/sessions/start", json={"user_agent": user_agent}))
    assert "'user_agent'" in message and expected in message


@pytest.mark.parametrize(
    ("path", "body", "field", "limit"),
    [
        (
            "/agents/start",
            {"task": "t" * 100_001, "session_id": NO_SUCH_SESSION},
            "task",
            "100000 characters",
        ),
        ("/agents/start", {"task": "t", "session_id": "s" * 2000}, "session_id", "1024 characters"),
        ("/agents/start", {"task": "t", "session_id": "s", "url": "u" * 40_000}, "url", "32768 characters"),
        (
            "/agents/start",
            {"task": "t", "session_id": "s", "session_offset": HUGE},
            "session_offset",
            "at most 2147483647",
        ),
        (
            "/agents/start",
            {"task": "t", "session_id": "s", "reasoning_model": "openai/" + "m" * 300},
            "reasoning_model",
            "at most 200 characters",
        ),
        (EXECUTE, {"type": "click", "selector": "#" * 5000}, "selector", "4096 characters"),
        (EXECUTE, {"type": "goto", "url": "http://x/" + "a" * 40_000}, "url", "32768 characters"),
        (EXECUTE, {"type": "fill", "id": "I1", "value": "v" * 100_001}, "value", "100000 characters"),
        (EXECUTE, {"type": "press_key", "key": "k" * 2000}, "key", "1024 characters"),
        (EXECUTE, {"type": "scroll_down", "amount": HUGE}, "amount", "at most 1000000"),
        (EXECUTE, {"type": "switch_tab", "tab_index": HUGE}, "tab_index", "at most 1000"),
        ("/sessions/start", {"chrome_args": ["--lang=en"] * 65}, "chrome_args", "at most 64"),
        ("/sessions/start", {"chrome_args": ["--lang=" + "e" * 2000]}, "chrome_args.0", "1024 characters"),
        (
            f"/sessions/{NO_SUCH_SESSION}/cookies",
            {"cookies": [{"name": "n", "value": "v", "domain": "d"}] * 1001},
            "cookies",
            "at most 1000",
        ),
        (f"/sessions/{NO_SUCH_SESSION}/page/scrape", {"selector": "s" * 5000}, "selector", "4096 characters"),
        (
            f"/sessions/{NO_SUCH_SESSION}/page/observe",
            {"max_nb_actions": HUGE},
            "max_nb_actions",
            "at most 2147483647",
        ),
    ],
)
async def test_an_oversized_field_is_a_422_naming_the_field_and_its_limit(
    api: httpx.AsyncClient, path: str, body: dict[str, Any], field: str, limit: str
) -> None:
    message = _message(await api.post(path, json=body))
    assert f"body field '{field}'" in message and limit in message, message


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/agents/start", {"task": "find\x00it", "session_id": NO_SUCH_SESSION}, "task"),
        ("/agents/start", {"task": "t", "session_id": "\x00"}, "session_id"),
        (
            "/agents/start",
            {"task": "t", "session_id": "s", "response_format": {"a\x00": {}}},
            "response_format",
        ),
        (EXECUTE, {"type": "goto", "url": "http://127.0.0.1/\x00"}, "url"),
        (EXECUTE, {"type": "fill", "selector": "#name", "value": "a\x00b"}, "value"),
        (EXECUTE, {"type": "click", "selector": "#a\x00"}, "selector"),
        (EXECUTE, {"type": "evaluate_js", "code": "'\x00'"}, "code"),
        (
            f"/sessions/{NO_SUCH_SESSION}/cookies",
            {"cookies": [{"name": "n", "value": "v\x00", "domain": "d"}]},
            "cookies.0.value",
        ),
    ],
)
async def test_a_nul_byte_in_a_string_is_a_422_that_says_so(
    api: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    message = _message(await api.post(path, json=body))
    assert f"body field '{field}'" in message, message
    assert "NUL character (\\x00), which is not accepted; remove it" in message


@pytest.mark.parametrize(
    "path",
    [f"/sessions/{NO_SUCH_SESSION}%00", "/agents/%00/stop", "/sessions?token=%00", "/agents?page=1%00"],
)
async def test_a_nul_byte_in_the_url_is_a_422_that_says_so(api: httpx.AsyncClient, path: str) -> None:
    message = _message(await api.get(path))
    assert "the URL contains a NUL character (%00)" in message


async def test_an_ignored_tag_must_be_a_tag_name(api: httpx.AsyncClient) -> None:
    response = await api.post(f"/sessions/{NO_SUCH_SESSION}/page/scrape", json={"ignored_tags": ["p,x{"]})
    assert "body field 'ignored_tags.0'" in _message(response)


async def test_a_body_that_is_not_utf8_is_a_422_saying_so(api: httpx.AsyncClient) -> None:
    response = await api.post(
        f"/sessions/{NO_SUCH_SESSION}/page/observe",
        content=b'{"instructions": "\xa6"}',  # 0xa6 alone is not UTF-8
        headers={"Content-Type": "application/json"},
    )
    assert "send a UTF-8 encoded JSON object" in _message(response)


async def test_infinity_in_a_cookie_expiry_is_a_422(api: httpx.AsyncClient) -> None:
    body = '{"cookies": [{"name": "n", "value": "v", "domain": "d", "expires": Infinity}]}'
    response = await api.post(
        f"/sessions/{NO_SUCH_SESSION}/cookies", content=body, headers={"Content-Type": "application/json"}
    )
    assert "body field 'cookies.0.expires'" in _message(response)


async def test_a_body_over_the_limit_is_a_413_naming_it(api: httpx.AsyncClient) -> None:
    code = "1;" * (1_100_000)  # 2.2 MB
    message = _message(await api.post(EXECUTE, json={"type": "evaluate_js", "code": code}), 413)
    assert "larger than 2 MiB" in message


async def test_a_chunked_body_over_the_limit_is_a_413(api: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"type": "evaluate_js", "code": "'
        for _ in range(40):  # 40 x 64 KiB, no Content-Length
            yield b"1" * 65536
        yield b'"}'

    response = await api.post(EXECUTE, content=chunks(), headers={"Content-Type": "application/json"})
    assert "larger than 2 MiB" in _message(response, 413)


async def test_an_upload_keeps_its_own_larger_limit(api: httpx.AsyncClient) -> None:
    response = await api.post("/storage/uploads/big.bin", content=b"0" * (3 * 1024 * 1024))
    assert response.status_code == 200, response.text
    assert response.json()["file"]["size"] == 3 * 1024 * 1024


async def test_a_url_over_the_limit_is_a_414(api: httpx.AsyncClient) -> None:
    message = _message(await api.get("/sessions", params={"x": "y" * 20_000}), 414)
    assert "at most 16384 are accepted" in message


async def test_an_oversized_authorization_header_is_a_422(lanterna_server: LanternaServer) -> None:
    response = httpx.get(
        f"{lanterna_server.url}/sessions", headers={"Authorization": "Bearer " + "k" * 5000}, timeout=30
    )
    assert "header 'Authorization' is 5007 bytes long; at most 4096" in _message(response)


def test_requests_of_notte_sdk_still_validate() -> None:
    """The bounds accept what notte-sdk 1.8.6 sends by default (wire compatibility)."""
    from notte_sdk.types import AgentStartRequest as NotteAgentStart
    from notte_sdk.types import SessionStartRequest as NotteSessionStart

    session = NotteSessionStart().model_dump(exclude_none=True)
    SessionStartRequest.model_validate(session)
    agent = NotteAgentStart(task="find the contact email", session_id=NO_SUCH_SESSION, url="https://x.test")
    AgentStartRequest.model_validate(agent.model_dump(exclude_none=True))
