"""A hostile tenant's ``chrome_args``: only allow-listed flags reach Chromium, the rest is a 422."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.engine import StaticSite
from tests.fixtures.server import LanternaServer


@pytest.fixture
async def api(lanterna_server: LanternaServer) -> AsyncIterator[httpx.AsyncClient]:
    async with lanterna_server.client() as client:
        yield client


async def _refused(api: httpx.AsyncClient, chrome_args: list[str]) -> str:
    response = await api.post("/sessions/start", json={"chrome_args": chrome_args})
    assert response.status_code == 422, response.text
    message: str = response.json()["message"]
    assert "allowed chrome_args flags: --lang=<language tag>" in message  # says what to send instead
    return message


async def _execute(api: httpx.AsyncClient, session_id: str, **action: object) -> dict[str, object]:
    response = await api.post(f"/sessions/{session_id}/page/execute", json=action)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


async def test_renderer_cmd_prefix_runs_no_host_command(
    api: httpx.AsyncClient, tmp_path: Path, static_site: StaticSite
) -> None:
    marker = tmp_path / "pwned"
    message = await _refused(api, [f"--renderer-cmd-prefix=/usr/bin/touch {marker}"])
    assert "'--renderer-cmd-prefix' is not an allowed flag" in message
    shell = await _refused(api, [f"--renderer-cmd-prefix=/bin/sh -c 'touch {marker}'", "--no-zygote"])
    assert "'--no-zygote' is not an allowed flag" in shell
    # A session that does start renders a page, which would have run the prefix had it been passed on.
    started = await api.post("/sessions/start", json={})
    session_id = started.json()["session_id"]
    try:
        assert (await _execute(api, session_id, type="goto", url=static_site.page("form.html")))["success"]
    finally:
        await api.delete(f"/sessions/{session_id}/stop")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("flag", "named"),
    [
        ("--remote-debugging-address=0.0.0.0", "--remote-debugging-address"),
        ("--remote-debugging-port=9222", "--remote-debugging-port"),
        ("--user-data-dir=/", "--user-data-dir"),
        ("--load-extension=/tmp/evil", "--load-extension"),
        ("--proxy-server=http://127.0.0.1:1", "--proxy-server"),
        ("--host-resolver-rules=MAP * 127.0.0.1", "--host-resolver-rules"),
        ("--disable-web-security", "--disable-web-security"),
        ("--no-sandbox", "--no-sandbox"),
        ("--remote-allow-origins=*", "--remote-allow-origins"),
        ("-renderer-cmd-prefix=/bin/sh", "-renderer-cmd-prefix"),  # Chromium takes single dashes too
        ("file:///etc/passwd", "file:///etc/passwd"),  # a bare argument opens a tab
        ("--", "--"),
    ],
)
async def test_dangerous_flags_are_refused_by_name(api: httpx.AsyncClient, flag: str, named: str) -> None:
    message = await _refused(api, ["--lang=en-US", flag])
    assert f"chrome_args: {named!r} is not an allowed flag" in message


async def test_values_are_validated(api: httpx.AsyncClient) -> None:
    newline = await _refused(api, ["--lang=en-US\n--no-sandbox"])
    assert "'--lang' must be a language tag" in newline
    smuggled = await _refused(api, ["--hide-scrollbars\n--remote-debugging-address=0.0.0.0"])
    assert "is not an allowed flag" in smuggled
    feature = await _refused(api, ["--disable-features=Translate,IsolateOrigins"])
    assert "(not IsolateOrigins)" in feature
    blink = await _refused(api, ["--blink-settings=allowFileAccessFromFileURLs=true"])
    assert "'--blink-settings' must be key=value pairs of" in blink
    shell = await _refused(api, ["--user-agent=x$(touch /tmp/x)"])
    assert "'--user-agent' must be" in shell
    value = await _refused(api, ["--mute-audio=1"])
    assert "'--mute-audio' takes no value" in value
    long = await _refused(api, ["--lang=" + "a" * 600])
    assert "longer than 512 characters" in long
    many = await api.post("/sessions/start", json={"chrome_args": ["--mute-audio"] * 33})
    assert many.status_code == 422 and "at most 32" in many.json()["message"]


async def test_allowed_flags_start_a_working_session(api: httpx.AsyncClient, static_site: StaticSite) -> None:
    args = [
        "--lang=de-DE",
        "--accept-lang=de-DE,de",
        "--window-size=1024,768",
        "--hide-scrollbars",
        "--mute-audio",
        "--disable-features=Translate",
        "--disable-blink-features=AutomationControlled",
        "--user-agent=Mozilla/5.0 (X11; Linux x86_64) LanternaTest/1.0",
    ]
    response = await api.post("/sessions/start", json={"chrome_args": args})
    assert response.status_code == 200, response.text
    session_id = response.json()["session_id"]
    try:
        goto = await _execute(api, session_id, type="goto", url=static_site.page("form.html"))
        assert goto["success"], goto
        probe = await _execute(api, session_id, type="evaluate_js", code="navigator.userAgent")
        assert probe["success"] and "LanternaTest/1.0" in str(probe["message"])
    finally:
        await api.delete(f"/sessions/{session_id}/stop")
