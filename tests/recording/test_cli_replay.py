"""``lanterna agents replay`` and ``lanterna sessions replay`` save MP4s of a real server's runs."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from tests.fixtures.server import LanternaServer, _lanterna_command

pytestmark = pytest.mark.timeout(180)


def _replay(
    server: LanternaServer, key: str, kind: str, item_id: str, output: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *_lanterna_command(),
            kind,
            "replay",
            item_id,
            "-o",
            str(output),
            "--server",
            server.url,
            "--api-key",
            key,
        ],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


async def test_cli_saves_agent_and_session_replays(
    lanterna_server: LanternaServer, demo_site: Any, tmp_path: Path
) -> None:
    key = lanterna_server.new_key("cli-replay")
    async with httpx.AsyncClient(
        base_url=lanterna_server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as api:
        session_id = (await api.post("/sessions/start", json={})).json()["session_id"]
        agent_id = (
            await api.post(
                "/agents/start",
                json={
                    "task": "find the contact email",
                    "url": demo_site.page("index.html"),
                    "session_id": session_id,
                },
            )
        ).json()["agent_id"]
        for _ in range(300):
            if (await api.get(f"/agents/{agent_id}")).json()["status"] == "closed":
                break
            await asyncio.sleep(0.1)
        done = await asyncio.to_thread(
            _replay, lanterna_server, key, "agents", agent_id, tmp_path / "run.mp4"
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert _frames(tmp_path / "run.mp4") >= 2
        session_running = await asyncio.to_thread(
            _replay, lanterna_server, key, "sessions", session_id, tmp_path / "s.mp4"
        )
        assert (
            session_running.returncode != 0
            and "still running" in session_running.stdout + session_running.stderr
        )
        await api.delete(f"/sessions/{session_id}/stop")
    done = await asyncio.to_thread(_replay, lanterna_server, key, "sessions", session_id, tmp_path / "s.mp4")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _frames(tmp_path / "s.mp4") >= 2
