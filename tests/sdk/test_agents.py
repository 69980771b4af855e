"""Agents through lanterna's SDK: every lifecycle pattern of the seed, with the offline reasoner."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pydantic import BaseModel

from lanterna import AgentResult, Client
from lanterna.demo.site import CONTACT_EMAIL
from lanterna.errors import ConflictError
from lanterna.sdk.agents import BatchRemoteAgent

FAST_FAIL_MS = 500


def email_task(demo_site: Any) -> str:
    return f"Go to {demo_site.page('index.html')} and find the contact email"


def _assert_found_email(result: AgentResult) -> None:
    assert result.success is True, result.answer
    assert result.answer is not None and CONTACT_EMAIL in result.answer
    assert result.status == "closed" and result.state == "completed"


def test_run_blocking_returns_typed_result(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        agent = client.Agent(session=session, max_steps=10)
        result = agent.run(task=email_task(demo_site))

    _assert_found_email(result)
    assert result.session_id == session.session_id and result.agent_id == agent.agent_id
    assert result.steps, "a finished run reports its steps"
    last = result.steps[-1]
    assert last.action.type == "completion" and last.success is True and isinstance(last.message, str)
    assert all(step.state.previous_goal_status in ("success", "failure", "unknown") for step in result.steps)


def test_late_follower_by_agent_id_gets_every_step(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        result = client.Agent(session=session).run(task=email_task(demo_site))
        follower = client.Agent(agent_id=result.agent_id)
        replayed = asyncio.run(follower.watch_logs(log=False))
        again = follower.stop()  # stopping a finished agent changes nothing
    assert replayed.session_id == session.session_id
    assert [s.action for s in replayed.steps] == [s.action for s in result.steps]
    assert again.status == "closed" and again.success is True and again.state == "completed"
    assert client.agents.status(result.agent_id).answer == result.answer


def test_start_then_wait(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        agent = client.Agent(session=session)
        started = agent.start(task=email_task(demo_site))
        assert started.status == "active" and started.success is None
        result = agent.wait(timeout=120)
    _assert_found_email(result)


def test_status_polling_until_closed(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        agent = client.Agent(session=session)
        agent.start(task=email_task(demo_site))
        deadline = time.monotonic() + 120
        seen: list[int] = []
        while True:
            status = agent.status()
            seen.append(len(status.steps))
            if status.status == "closed":
                break
            assert status.success is None and status.answer is None and status.state == "running"
            assert time.monotonic() < deadline, "the agent did not finish"
            time.sleep(0.1)
    assert seen == sorted(seen), "steps only grow"
    assert status.success is True and CONTACT_EMAIL in (status.answer or "")


def test_watch_logs_prints_each_step_and_returns_final_status(
    client: Client, demo_site: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    async def monitor() -> Any:
        with client.Session() as session:  # a blocking session inside async code, as in the seed
            agent = client.Agent(session=session)
            agent.start(task=email_task(demo_site))
            final = await agent.watch_logs(log=True)
            return final, agent.status()

    final, status = asyncio.run(monitor())
    printed = capsys.readouterr().out
    assert final.status == "closed" and final.success is True
    assert status.agent_id == final.agent_id and len(status.steps) == len(final.steps)
    for number in range(1, len(final.steps) + 1):
        assert f"Step {number}:" in printed
    assert "completion" in printed


def test_arun_inside_async_session_with_response_format(client: Client, demo_site: Any) -> None:
    class Contact(BaseModel):
        email: str

    async def main() -> AgentResult:
        async with client.Session() as session:
            agent = client.Agent(session=session, max_steps=10)
            return await agent.arun(task=email_task(demo_site), response_format=Contact)

    result = asyncio.run(main())
    assert result.success is True, result.answer
    assert Contact.model_validate_json(result.answer or "").email == CONTACT_EMAIL


def test_parallel_aruns_created_in_session_blocks_still_run(client: Client, demo_site: Any) -> None:
    # The seed's "parallel agents" snippet: each arun() is created inside its `with` block but
    # awaited after the block; the session's stop waits for the run.
    async def run_multiple_agents() -> list[AgentResult]:
        tasks, sessions = [], []
        for _ in range(2):
            with client.Session() as session:
                agent = client.Agent(session=session)
                tasks.append(agent.arun(task=email_task(demo_site)))
            sessions.append(session)
        assert [s.status().status for s in sessions] == ["active", "active"], "stop postponed"
        return list(await asyncio.gather(*tasks))

    results = asyncio.run(run_multiple_agents())
    assert [r.success for r in results] == [True, True]
    assert len({r.session_id for r in results}) == 2
    for r in results:
        assert client.sessions.get(r.session_id).status == "closed", "stopped once its run ended"


def test_two_runs_on_one_session_take_turns(client: Client, demo_site: Any) -> None:
    async def main() -> list[AgentResult]:
        with client.Session() as session:
            a1, a2 = client.Agent(session=session), client.Agent(session=session)
            return list(
                await asyncio.gather(a1.arun(task=email_task(demo_site)), a2.arun(task="Very complex task"))
            )

    first, second = asyncio.run(main())
    assert first.success is True and second.status == "closed"
    assert first.agent_id != second.agent_id


def test_second_agent_started_on_a_busy_session_gets_409(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        running = client.Agent(session=session)
        running.start(task=email_task(demo_site))
        with pytest.raises(ConflictError) as conflict:
            client.Agent(session=session).start(task=email_task(demo_site))
        assert conflict.value.message
        running.stop()


def test_stop_ends_a_running_agent(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        agent = client.Agent(session=session)
        agent.start(task=email_task(demo_site))
        stopped = agent.stop()
        final = agent.wait(timeout=60)
    assert stopped.agent_id == agent.agent_id
    assert final.status == "closed" and final.state == "stopped" and final.success is False
    assert final.answer


def test_timeout_pattern_cancels_and_stops_the_agent(client: Client, demo_site: Any) -> None:
    async def run_with_timeout(agent: Any, timeout_seconds: float) -> AgentResult:
        try:
            return await asyncio.wait_for(agent.arun(task=email_task(demo_site)), timeout=timeout_seconds)
        except TimeoutError:
            agent.stop()  # a blocking call inside async code, as in the seed
            raise

    with client.Session() as session:
        agent = client.Agent(session=session)
        with pytest.raises(TimeoutError):
            asyncio.run(run_with_timeout(agent, timeout_seconds=0.05))
        status = agent.status()
    assert status.status == "closed" and status.state == "stopped"


def test_max_steps_and_hopeless_tasks_end_unsuccessfully(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        limited = client.Agent(session=session, max_steps=1).run(task=email_task(demo_site))
        hopeless = client.Agent(session=session, max_steps=5).run(task="Very complex task")
    assert limited.success is False and limited.state == "max_steps" and len(limited.steps) == 1
    assert limited.answer
    assert hopeless.success is False and hopeless.status == "closed" and hopeless.answer


def test_agent_fallback_without_failure_runs_no_agent(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        session.execute(type="goto", url=demo_site.page("products/classic-lantern.html"))
        with client.AgentFallback(session, task="Add the item to the cart") as fb:
            session.execute(type="click", selector="#add-to-cart")
        assert session.scrape(selector="#cart-count", only_main_content=False).strip() == "1"
    assert fb.success is True and fb.agent_response is None and not fb.agent_invoked
    assert [s.success for s in fb.steps] == [True]


def test_agent_fallback_hands_over_to_an_agent(client: Client, demo_site: Any) -> None:
    with client.Session() as session:
        session.execute(type="goto", url=demo_site.page("products/classic-lantern.html"))
        with client.AgentFallback(session, task="Add the item to the cart", max_steps=5) as fb:
            failed = session.execute(type="click", selector="#add-to-cart-old", timeout=FAST_FAIL_MS)
            skipped = session.execute(type="click", selector="#checkout")
        cart = session.scrape(selector="#cart-count", only_main_content=False).strip()

    assert failed.success is False, "inside the block a failure is returned, not raised"
    assert skipped.success is True and "skipped" in skipped.message
    assert fb.agent_invoked and fb.agent_response is not None
    assert fb.agent_response.success is True, fb.agent_response.answer
    assert fb.success is True and fb.session_offset is not None
    assert [s.success for s in fb.steps] == [False]
    assert cart == "1", "the agent added the item"


def test_batch_first_success_returns_one_success_and_leaves_no_session_open(
    fresh_client: Client, demo_site: Any
) -> None:
    async def main() -> tuple[AgentResult, str]:
        with fresh_client.Session() as session:
            batch = BatchRemoteAgent(session=session, max_steps=10, _client=fresh_client)
            result = await batch.run(task=email_task(demo_site), n_jobs=3, strategy="first_success")
            assert [s.session_id for s in fresh_client.sessions.list()] == [session.session_id]
            return result, session.session_id

    result, template_id = asyncio.run(main())
    _assert_found_email(result)
    assert result.session_id != template_id, "jobs run on their own sessions"
    assert fresh_client.sessions.list() == []
    assert fresh_client.agents.list() == [], "the other agents were stopped"


def test_batch_all_finished_returns_every_result(client: Client, demo_site: Any) -> None:
    template = client.Session(viewport_width=1024, viewport_height=700)  # never started itself
    batch = client.BatchAgent(session=template, max_steps=10)
    results = asyncio.run(batch.run(task=email_task(demo_site), n_jobs=2, strategy="all_finished"))
    assert len(results) == 2 and all(r.success for r in results)
    assert len({r.session_id for r in results}) == 2
    for r in results:
        info = client.sessions.get(r.session_id)
        assert info.status == "closed" and info.viewport_width == 1024
