"""The official notte-sdk 1.8.6 gets real MP4 replays, and its open_viewer page shows live frames."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import av
import pytest
from playwright.async_api import async_playwright

from lanterna.browser.chromium import find_chromium
from lanterna.config import Settings
from tests.fixtures.sdk import NotteRunner

pytestmark = pytest.mark.timeout(240)


def _decoded_size(path: Path) -> tuple[int, int, int]:
    """(width, height, frames) of an MP4 file, decoded with PyAV."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return frames[0].width, frames[0].height, len(frames)


def test_notte_session_and_agent_replay_save_playable_mp4(
    notte: NotteRunner, demo_site: Any, tmp_path: Path
) -> None:
    session_file, agent_file = tmp_path / "session.mp4", tmp_path / "agent.mp4"
    out = notte.run(
        f"""
        from notte_sdk import NotteClient

        client = NotteClient()
        with client.Session(viewport_width=800, viewport_height=600) as session:
            session.execute(type="goto", url={demo_site.page("index.html")!r})
            session.execute(type="goto", url={demo_site.page("contact.html")!r})
        session.replay().save({str(session_file)!r})
        with client.Session(viewport_width=800, viewport_height=600) as session:
            agent = client.Agent(session=session, max_steps=5)
            result = agent.run(task="find the contact email", url={demo_site.page("index.html")!r})
        agent.replay().save({str(agent_file)!r})
        emit({{"success": result.success}})
        """
    )
    assert out["success"] is True
    width, height, frames = _decoded_size(session_file)
    assert (width, height) == (800, 600) and frames >= 3
    width, height, frames = _decoded_size(agent_file)
    assert (width, height) == (800, 600) and frames >= 2


async def test_open_viewer_page_shows_live_frames(notte: NotteRunner, demo_site: Any, tmp_path: Path) -> None:
    opened, done = tmp_path / "opened.txt", tmp_path / "done"
    # webbrowser.open runs $BROWSER: ours writes down the URL instead of opening a window.
    recorder = tmp_path / "browser.py"
    recorder.write_text(f"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])\n")
    script = textwrap.dedent(
        f"""
        import os, time
        from notte_sdk import NotteClient

        client = NotteClient()
        with client.Session(open_viewer=True) as session:
            session.execute(type="goto", url={demo_site.page("products.html")!r})
            deadline = time.monotonic() + 90
            while not os.path.exists({str(done)!r}) and time.monotonic() < deadline:
                time.sleep(0.2)
        """
    )
    env = {**notte.env(), "BROWSER": f"{sys.executable} {recorder} %s"}
    process = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not opened.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert opened.exists(), process.stderr.read() if process.poll() is not None and process.stderr else ""
        url = opened.read_text()
        assert url.startswith(f"{notte.server_url}/sessions/viewer/index.html?ws=ws://")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=find_chromium(Settings()), args=["--no-sandbox", "--disable-gpu"]
            )
            page = await browser.new_page()
            await page.goto(url)
            await page.wait_for_selector("#screen[data-frames]", timeout=20_000)
            src = await page.get_attribute("#screen img", "src")
            assert src is not None and src.startswith("blob:")
            size = await page.evaluate("document.querySelector('#screen img').naturalWidth")
            assert size > 0
            assert "live" in (await page.text_content("#status") or "")
            await browser.close()
    finally:
        done.touch()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
