"""Recording and replay over real HTTP: a real server, real Chromium, the demo shop, PyAV decoding."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import av
import httpx
import pytest
import websockets
from PIL import Image, ImageChops, ImageStat

from tests.fixtures.server import LanternaServer

pytestmark = pytest.mark.timeout(180)

VIEWPORT = (800, 600)


@pytest.fixture(scope="module")
def api_key(lanterna_server: LanternaServer) -> str:
    return lanterna_server.new_key("recording")


@pytest.fixture
async def api(lanterna_server: LanternaServer, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=lanterna_server.url, headers=headers, timeout=60) as client:
        yield client


async def start(api: httpx.AsyncClient, **options: Any) -> str:
    body = {"viewport_width": VIEWPORT[0], "viewport_height": VIEWPORT[1], **options}
    response = await api.post("/sessions/start", json=body)
    assert response.status_code == 200, response.text
    session_id: str = response.json()["session_id"]
    return session_id


async def goto(api: httpx.AsyncClient, session_id: str, url: str) -> None:
    result = (
        await api.post(f"/sessions/{session_id}/page/execute", json={"type": "goto", "url": url})
    ).json()
    assert result["success"], result


def decode(mp4: bytes) -> tuple[list[Image.Image], float]:
    """Every frame of an MP4 and its duration in seconds."""
    with av.open(io.BytesIO(mp4)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [frame.to_image() for frame in container.decode(stream)]
        assert container.duration is not None
        return frames, container.duration / 1_000_000


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute pixel difference (0 = identical, 255 = opposite)."""
    stat = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB").resize(a.size)))
    return sum(stat.mean) / 3


async def screenshots(api: httpx.AsyncClient, session_id: str) -> list[Image.Image]:
    """The screenshots recorded at the end of each action of the session."""
    entries = (await api.get(f"/sessions/{session_id}/recording/frames")).json()
    shots = []
    for entry in entries:
        if entry["kind"] == "action":
            jpeg = await api.get(f"/sessions/{session_id}/recording/frames/{entry['seq']}")
            assert jpeg.headers["content-type"] == "image/jpeg"
            shots.append(Image.open(io.BytesIO(jpeg.content)))
    return shots


def shows(frames: list[Image.Image], shot: Image.Image) -> bool:
    return min(difference(frame, shot) for frame in frames) < 4  # JPEG and H.264 losses only


async def test_session_replay_decodes_to_viewport_frames_of_the_pages_visited(
    api: httpx.AsyncClient, demo_site: Any
) -> None:
    session_id = await start(api)
    await goto(api, session_id, demo_site.page("index.html"))
    await goto(api, session_id, demo_site.page("contact.html"))
    running = await api.get(f"/sessions/{session_id}/replay")
    assert running.status_code == 409 and "still running" in running.json()["message"]
    await api.delete(f"/sessions/{session_id}/stop")

    replay = await api.get(f"/sessions/{session_id}/replay")
    assert replay.status_code == 200 and replay.headers["content-type"] == "video/mp4"
    assert float(replay.headers["x-lanterna-idle-shortened-s"]) >= 0
    frames, duration = decode(replay.content)
    assert duration > 0.5 and len(frames) >= 3
    assert {frame.size for frame in frames} == {VIEWPORT}
    index, contact = await screenshots(api, session_id)
    assert difference(index, contact) > 3  # two different pages
    assert shows(frames, index) and shows(frames, contact)


async def test_agent_replay_covers_its_run(api: httpx.AsyncClient, demo_site: Any) -> None:
    session_id = await start(api)
    await goto(api, session_id, demo_site.page("about.html"))
    agent = (
        await api.post(
            "/agents/start",
            json={
                "task": "find the contact email",
                "url": demo_site.page("index.html"),
                "session_id": session_id,
            },
        )
    ).json()
    agent_id = agent["agent_id"]
    for _ in range(1200):  # a loaded machine can take a while
        status = (await api.get(f"/agents/{agent_id}")).json()
        if status["status"] == "closed":
            break
        await asyncio.sleep(0.1)
    assert status["success"], status
    replay = await api.get(f"/agents/{agent_id}/replay")  # the session still runs: the agent is done
    assert replay.status_code == 200 and replay.headers["content-type"] == "video/mp4"
    frames, _ = decode(replay.content)
    assert {frame.size for frame in frames} == {VIEWPORT}
    shot = await api.get(f"/agents/{agent_id}/steps/{len(status['steps'])}/screenshot")
    assert shot.status_code == 200 and shot.headers["content-type"] == "image/jpeg"
    assert shows(frames, Image.open(io.BytesIO(shot.content)))
    missing = await api.get(f"/agents/{agent_id}/steps/99/screenshot")
    assert missing.status_code == 404
    await api.delete(f"/sessions/{session_id}/stop")


async def test_recording_off_is_a_clear_404(api: httpx.AsyncClient, demo_site: Any) -> None:
    session_id = await start(api, recording=False)
    await goto(api, session_id, demo_site.page("index.html"))
    await api.delete(f"/sessions/{session_id}/stop")
    replay = await api.get(f"/sessions/{session_id}/replay")
    assert replay.status_code == 404 and "recording off" in replay.json()["message"]
    assert not replay.headers["content-type"].startswith("video/")


async def test_live_view_sends_the_latest_frame_then_live_ones_and_takes_input(
    api: httpx.AsyncClient, lanterna_server: LanternaServer, api_key: str, demo_site: Any
) -> None:
    session_id = await start(api)
    await goto(api, session_id, demo_site.page("products.html"))
    debug = (await api.get(f"/sessions/{session_id}/debug")).json()
    url = debug["ws"]["recording"]
    assert url.startswith(lanterna_server.url.replace("http", "ws")) and "token=" in url
    async with websockets.connect(url + "&interactive=true", max_size=8 * 1024 * 1024) as ws:
        hello = json.loads(await ws.recv())
        assert hello == {"viewport": {"width": VIEWPORT[0], "height": VIEWPORT[1]}, "interactive": True}
        latest = await asyncio.wait_for(ws.recv(), 30)
        assert isinstance(latest, bytes) and latest[:2] == b"\xff\xd8"  # a JPEG
        await ws.send(json.dumps({"input": {"type": "scroll", "x": 400, "y": 300, "delta_y": 400}}))
        live = await _frame(ws)  # the page scrolled: a new frame
        assert live != latest
        await ws.send(json.dumps({"input": {"type": "click", "x": 5000, "y": 10}}))
        assert "outside the 800x600 viewport" in json.loads(await _text(ws))["error"]
        await ws.send(json.dumps({"input": {"type": "eval", "code": "alert(1)"}}))
        assert "invalid input" in json.loads(await _text(ws))["error"]
    observed = (await api.post(f"/sessions/{session_id}/page/observe", json={})).json()
    assert observed["metadata"]["viewport"]["scroll_y"] > 0
    await api.delete(f"/sessions/{session_id}/stop")


async def _frame(ws: websockets.ClientConnection) -> bytes:
    """The next frame; a text message meanwhile (an input refused) fails the test with its reason."""
    message = await asyncio.wait_for(ws.recv(), 30)
    assert isinstance(message, bytes), message
    return message


async def _text(ws: websockets.ClientConnection) -> str:
    while True:
        message = await asyncio.wait_for(ws.recv(), 30)
        if isinstance(message, str):
            return message


async def test_read_only_live_view_refuses_input(api: httpx.AsyncClient, demo_site: Any) -> None:
    session_id = await start(api)
    await goto(api, session_id, demo_site.page("index.html"))
    url = (await api.get(f"/sessions/{session_id}/debug")).json()["ws"]["recording"]
    async with websockets.connect(url) as ws:
        assert json.loads(await ws.recv())["interactive"] is False
        await ws.send(json.dumps({"input": {"type": "key", "key": "End"}}))
        assert "read-only" in json.loads(await _text(ws))["error"]
    await api.delete(f"/sessions/{session_id}/stop")


async def test_another_tenant_gets_404_on_replay_frames_and_live_view(
    api: httpx.AsyncClient, lanterna_server: LanternaServer, demo_site: Any
) -> None:
    session_id = await start(api)
    await goto(api, session_id, demo_site.page("index.html"))
    agent = (
        await api.post(
            "/agents/start",
            json={"task": "find the contact email", "session_id": session_id, "max_steps": 3},
        )
    ).json()
    url = (await api.get(f"/sessions/{session_id}/debug")).json()["ws"]["recording"]
    other = {"Authorization": f"Bearer {lanterna_server.new_key('recording-b')}"}
    async with httpx.AsyncClient(base_url=lanterna_server.url, headers=other, timeout=30) as b:
        for path in (
            f"/sessions/{session_id}/replay",
            f"/sessions/{session_id}/recording/frames",
            f"/sessions/{session_id}/recording/frames/0",
            f"/agents/{agent['agent_id']}/replay",
            f"/agents/{agent['agent_id']}/steps/1/screenshot",
        ):
            response = await b.get(path)
            assert response.status_code == 404, (path, response.text)
        b_key = other["Authorization"].removeprefix("Bearer ")
    b_url = url.split("?")[0] + f"?token={b_key}"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(b_url):
            pass
    assert refused.value.response.status_code == 404
    await api.delete(f"/sessions/{session_id}/stop")


async def test_revoking_the_key_closes_the_live_view(lanterna_server: LanternaServer, demo_site: Any) -> None:
    key = lanterna_server.new_key("recording-revoked")
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=lanterna_server.url, headers=headers, timeout=30) as own:
        session_id = await start(own)
        url = (await own.get(f"/sessions/{session_id}/debug")).json()["ws"]["recording"]
        async with websockets.connect(url) as ws:
            await ws.recv()
            await asyncio.to_thread(lanterna_server.cli, "keys", "revoke", key)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
