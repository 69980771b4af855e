"""Agents through the official notte-sdk 1.8.6, unchanged, against a lanterna server.

Its ``BatchRemoteAgent`` is broken client-side in 1.8.6 (wire contract §8, flow 7), so batches
are covered through lanterna's SDK only. Its ``agent.wait()`` polls every 10 s, so it is only
called once the agent has finished.
"""

from __future__ import annotations

from typing import Any

from lanterna import Client
from lanterna.demo.site import CONTACT_EMAIL
from tests.fixtures.sdk import NotteRunner


def _all_closed(notte: NotteRunner, out: dict[str, Any]) -> None:
    """Every session and agent the script made is closed (read through lanterna's SDK)."""
    assert out["sessions"] and out["agents"]
    with Client(api_key=notte.api_key, server_url=notte.server_url) as ours:
        assert {ours.sessions.get(sid).status for sid in out["sessions"]} == {"closed"}
        assert {ours.agents.status(aid).status for aid in out["agents"]} == {"closed"}


def test_notte_run_arun_and_result_structure(notte: NotteRunner, demo_site: Any) -> None:
    task = f"Go to {demo_site.page('index.html')} and find the contact email"
    out = notte.run(
        f"""
        import asyncio
        from notte_sdk import NotteClient

        TASK = {task!r}
        client = NotteClient()
        out = {{"sessions": [], "agents": []}}
        with client.Session() as session:
            agent = client.Agent(session=session, max_steps=10)
            result = agent.run(task=TASK)
            out["sessions"].append(session.session_id)
            out["agents"].append(result.agent_id)
            out["run"] = {{
                "success": result.success, "answer": result.answer, "agent_id": result.agent_id,
                "same_session": result.session_id == session.session_id,
                "actions": [step["action"]["type"] for step in result.steps],
            }}

        async def run_agent_task():
            with client.Session() as session:
                agent = client.Agent(session=session)
                return await agent.arun(task=TASK)

        result = asyncio.run(run_agent_task())
        out["arun"] = [result.success, result.answer]
        out["sessions"].append(result.session_id)
        out["agents"].append(result.agent_id)

        with client.Session() as session:
            result = client.Agent(session=session, max_steps=5).run(task="Very complex task")
            out["hopeless"] = [result.success, result.answer]
            out["sessions"].append(session.session_id)
            out["agents"].append(result.agent_id)
        emit(out)
        """
    )
    run = out["run"]
    assert run["success"] is True and CONTACT_EMAIL in run["answer"]
    assert run["same_session"] and run["agent_id"]
    assert run["actions"][-1] == "completion"
    assert out["arun"][0] is True and CONTACT_EMAIL in out["arun"][1]
    assert out["hopeless"][0] is False and out["hopeless"][1]
    _all_closed(notte, out)


def test_notte_start_status_wait_watch_logs_stop(notte: NotteRunner, demo_site: Any) -> None:
    task = f"Go to {demo_site.page('index.html')} and find the contact email"
    out = notte.run(
        f"""
        import asyncio, time
        from notte_sdk import NotteClient

        TASK = {task!r}
        client = NotteClient()
        out = {{"sessions": [], "agents": []}}
        with client.Session() as session:
            agent = client.Agent(session=session)
            agent.start(task=TASK)
            out["sessions"].append(session.session_id)
            out["agents"].append(agent.agent_id)
            counts, deadline = [], time.monotonic() + 120
            while time.monotonic() < deadline:
                status = agent.status()
                counts.append(len(status.steps))
                if status.status == "closed":
                    break
                time.sleep(0.2)
            out["poll"] = [status.status, status.success, status.answer, counts]
            waited = agent.wait()  # finished already: answers after its first status request
            out["wait"] = [waited.success, waited.answer]

        async def monitor():
            with client.Session() as session:
                agent = client.Agent(session=session)
                agent.start(task=TASK)
                final = await agent.watch_logs(log=True)
                return final, agent.status()

        final, status = asyncio.run(monitor())
        out["watch"] = [final.success if final else None, status.status, len(status.steps)]
        out["sessions"].append(status.session_id)
        out["agents"].append(status.agent_id)

        with client.Session() as session:
            agent = client.Agent(session=session)
            agent.start(task=TASK)
            out["sessions"].append(session.session_id)
            out["agents"].append(agent.agent_id)
            stopped = agent.stop()
            out["stop"] = [stopped.agent_id == agent.agent_id, stopped.success]
            deadline = time.monotonic() + 60
            while agent.status().status != "closed" and time.monotonic() < deadline:
                time.sleep(0.2)
            status = agent.status()
            out["stopped"] = [status.status, status.success, status.answer]
        emit(out)
        """
    )
    closed, success, answer, counts = out["poll"]
    assert closed == "closed" and success is True and CONTACT_EMAIL in answer
    assert counts == sorted(counts)
    assert out["wait"][0] is True and CONTACT_EMAIL in out["wait"][1]
    assert out["watch"][0] is True and out["watch"][1] == "closed" and out["watch"][2] >= 1
    assert out["stop"][0] is True
    assert out["stopped"][0] == "closed" and out["stopped"][1] is False and out["stopped"][2]
    _all_closed(notte, out)


def test_notte_agent_fallback(notte: NotteRunner, demo_site: Any) -> None:
    out = notte.run(
        f"""
        from notte_sdk import NotteClient

        client = NotteClient()
        with client.Session() as session:
            session.execute(type="goto", url={demo_site.page("products/classic-lantern.html")!r})
            with client.AgentFallback(session, task="Add the item to the cart", max_steps=5) as agent_fb:
                session.execute(type="click", selector="#add-to-cart-old", timeout=500)
                skipped = session.execute(type="click", selector="#checkout")
            cart = session.scrape(selector="#cart-count", only_main_content=False).strip()
        emit({{
            "sessions": [session.session_id],
            "agents": [agent_fb.agent_response.agent_id] if agent_fb.agent_response else [],
            "success": agent_fb.success,
            "agent_success": agent_fb.agent_response.success if agent_fb.agent_response else None,
            "skipped": [skipped.success, skipped.message],
            "cart": cart,
        }})
        """
    )
    assert out["success"] is True and out["agent_success"] is True
    assert out["skipped"][0] is True
    assert out["cart"] == "1"
    _all_closed(notte, out)
