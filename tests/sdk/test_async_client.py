"""The seed's agent patterns through ``AsyncClient``: I/O in the caller's event loop, no thread.

Also: the typed action space, the step stream (``agent.steps()``, ``on_step=``) on both clients,
refusal after close, and cancellation of an awaiting ``wait()``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from lanterna import AgentResult, Client
from lanterna.demo.site import CONTACT_EMAIL
from lanterna.models.actions import Click, Fill
from lanterna.models.agent import AgentStep
from lanterna.sdk import AsyncClient, AsyncSession, BatchRemoteAgent, ClientClosedError

FAST_FAIL_MS = 500
HOPELESS = "Very complex task"  # the offline reasoner cannot do it: it runs until max_steps


def email_task(demo_site: Any) -> str:
    return f"Go to {demo_site.page('index.html')} and find the contact email"


def _assert_found_email(result: AgentResult) -> None:
    assert result.success is True, result.answer
    assert result.answer is not None and CONTACT_EMAIL in result.answer
    assert result.status == "closed" and result.state == "completed"


def _sdk_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("lanterna-sdk")]


@pytest.fixture
async def aclient(lanterna_server: Any, sdk_api_key: str) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(api_key=sdk_api_key, server_url=lanterna_server.url) as client:
        yield client


@pytest.fixture
async def fresh_aclient(lanterna_server: Any) -> AsyncIterator[AsyncClient]:
    """An AsyncClient with a new API key: it sees only the sessions and agents it makes."""
    key = lanterna_server.new_key("sdk-async")
    async with AsyncClient(api_key=key, server_url=lanterna_server.url) as client:
        yield client


async def test_run_in_async_session_without_a_thread(aclient: AsyncClient, demo_site: Any) -> None:
    before = _sdk_threads()
    async with aclient.Session() as session:
        assert isinstance(session, AsyncSession)
        agent = aclient.Agent(session=session, max_steps=10)
        result = await agent.run(task=email_task(demo_site))
        assert (await session.status()).status == "active"
    _assert_found_email(result)
    assert result.session_id == session.session_id and result.agent_id == agent.agent_id
    assert result.steps[-1].action.type == "completion"
    assert (await aclient.sessions.get(session.session_id)).status == "closed", "left the block: stopped"
    assert (await aclient.agents.status(result.agent_id)).answer == result.answer
    assert (await aclient.health())["status"] == "ok"
    assert _sdk_threads() == before, "the AsyncClient started no thread of its own"


async def test_start_then_wait_and_status_polling(aclient: AsyncClient, demo_site: Any) -> None:
    async with aclient.Session() as session:
        agent = aclient.Agent(session=session)
        started = await agent.start(task=email_task(demo_site))
        assert started.status == "active" and started.success is None
        seen: list[int] = []
        async with asyncio.timeout(120):
            while (status := await agent.status()).status != "closed":
                seen.append(len(status.steps))
                assert status.success is None and status.state == "running"
                await asyncio.sleep(0.1)
        result = await agent.wait(timeout=5)
    assert seen == sorted(seen), "steps only grow"
    _assert_found_email(result)
    assert len(result.steps) == len(status.steps)


async def test_steps_stream_each_step_then_the_final_status(aclient: AsyncClient, demo_site: Any) -> None:
    async with aclient.Session() as session:
        agent = aclient.Agent(session=session, max_steps=10)
        await agent.start(task=email_task(demo_site))
        streamed = [step async for step in agent.steps()]
        final = agent.last_status
        assert final is not None and final.done
        called: list[tuple[int, AgentStep]] = []
        again = await aclient.Agent(session=session).run(
            task=email_task(demo_site), on_step=lambda n, step: called.append((n, step))
        )
    assert all(isinstance(step, AgentStep) for step in streamed)
    assert [s.action for s in streamed] == [s.action for s in final.steps]
    assert streamed[-1].action.type == "completion"
    assert [n for n, _ in called] == list(range(1, len(again.steps) + 1))
    assert [s.action for _, s in called] == [s.action for s in again.steps]


async def test_watch_logs_of_a_late_follower(
    aclient: AsyncClient, demo_site: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    async with aclient.Session() as session:
        result = await aclient.Agent(session=session).run(task=email_task(demo_site))
        follower = aclient.Agent(agent_id=result.agent_id)
        replayed = await follower.watch_logs(log=True)
    printed = capsys.readouterr().out
    assert replayed.session_id == session.session_id
    assert [s.action for s in replayed.steps] == [s.action for s in result.steps]
    for number in range(1, len(result.steps) + 1):
        assert f"Step {number}:" in printed


async def test_stop_ends_a_running_agent(aclient: AsyncClient) -> None:
    async with aclient.Session() as session:
        agent = aclient.Agent(session=session, max_steps=50)
        await agent.start(task=HOPELESS)
        stopped = await agent.stop()
        final = await agent.wait(timeout=60)
    assert stopped.agent_id == agent.agent_id
    assert final.status == "closed" and final.state == "stopped" and final.success is False


async def test_timeout_cancels_the_run_and_stops_the_agent(aclient: AsyncClient) -> None:
    async with aclient.Session() as session:
        agent = aclient.Agent(session=session, max_steps=50)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(agent.run(task=HOPELESS), timeout=0.05)
        status = await agent.status()  # the run's start finished before the cancellation landed
    assert status.status == "closed" and status.state == "stopped"


async def test_cancelling_a_wait_cancels_only_the_wait(aclient: AsyncClient) -> None:
    async with aclient.Session() as session:
        agent = aclient.Agent(session=session, max_steps=50)
        await agent.start(task=HOPELESS)
        waiter = asyncio.create_task(agent.wait(timeout=120))
        first_poll = asyncio.create_task(agent.status())
        await first_poll  # the waiter has run at least its first request meanwhile
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert waiter.cancelled()
        after = await agent.status()  # the client still works
        assert after.state != "stopped", "cancelling a wait does not stop the agent"
        await agent.stop()
        final = await agent.wait(timeout=60)
    assert final.status == "closed"


async def test_parallel_runs_created_in_session_blocks_still_run(
    aclient: AsyncClient, demo_site: Any
) -> None:
    runs, sessions = [], []
    for _ in range(2):
        async with aclient.Session() as session:
            runs.append(aclient.Agent(session=session).run(task=email_task(demo_site)))
        sessions.append(session)
    assert [(await s.status()).status for s in sessions] == ["active", "active"], "stop postponed"
    results = list(await asyncio.gather(*runs))
    assert [r.success for r in results] == [True, True]
    assert len({r.session_id for r in results}) == 2
    for r in results:
        assert (await aclient.sessions.get(r.session_id)).status == "closed", "stopped once its run ended"


async def test_batch_first_success_and_all_finished(fresh_aclient: AsyncClient, demo_site: Any) -> None:
    async with fresh_aclient.Session() as template:
        batch = BatchRemoteAgent(session=template, max_steps=10, _client=fresh_aclient)
        first = await batch.run(task=email_task(demo_site), n_jobs=3, strategy="first_success")
        assert [s.session_id for s in await fresh_aclient.sessions.list()] == [template.session_id]
    _assert_found_email(first)
    assert first.session_id != template.session_id, "jobs run on their own sessions"
    assert await fresh_aclient.agents.list() == [], "the other agents were stopped"

    unstarted = fresh_aclient.Session(viewport_width=1024, viewport_height=700)
    every = await fresh_aclient.BatchAgent(session=unstarted, max_steps=10).run(
        task=email_task(demo_site), n_jobs=2, strategy="all_finished"
    )
    assert len(every) == 2 and all(r.success for r in every)
    for r in every:
        info = await fresh_aclient.sessions.get(r.session_id)
        assert info.status == "closed" and info.viewport_width == 1024
    assert await fresh_aclient.sessions.list() == []


async def test_agent_fallback_hands_over_to_an_agent(aclient: AsyncClient, demo_site: Any) -> None:
    async with aclient.Session() as session:
        await session.execute(type="goto", url=demo_site.page("products/classic-lantern.html"))
        async with aclient.AgentFallback(session, task="Add the item to the cart", max_steps=5) as fb:
            failed = await session.execute(type="click", selector="#add-to-cart-old", timeout=FAST_FAIL_MS)
            skipped = await session.execute(type="click", selector="#checkout")
        cart = await session.scrape(selector="#cart-count", only_main_content=False)
    assert failed.success is False, "inside the block a failure is returned, not raised"
    assert skipped.success is True and "skipped" in skipped.message
    assert fb.agent_response is not None and fb.agent_response.success is True, fb.agent_response
    assert fb.success is True and [s.success for s in fb.steps] == [False]
    assert cart.strip() == "1", "the agent added the item"


async def test_action_space_holds_typed_actions_to_execute(aclient: AsyncClient, demo_site: Any) -> None:
    async with aclient.Session() as session:
        await session.execute(type="goto", url=demo_site.page("index.html"))
        space = (await session.observe()).space
        contact = next(
            a for a in space.interaction_actions if isinstance(a, Click) and a.description == "Contact"
        )
        assert any(isinstance(a, Fill) for a in space.interaction_actions), "the search box"
        clicked = await session.execute(contact)
        assert clicked.success, clicked.message
        assert (await session.observe()).metadata.url.endswith("/contact.html")


async def test_a_closed_client_refuses_calls(lanterna_server: Any, sdk_api_key: str) -> None:
    client = AsyncClient(api_key=sdk_api_key, server_url=lanterna_server.url)
    async with client.Session() as session:
        assert session.started
    await client.aclose()
    await client.aclose()  # idempotent
    with pytest.raises(ClientClosedError, match="closed; create a new AsyncClient"):
        await client.health()
    with pytest.raises(ClientClosedError):
        await client.sessions.list()
    with pytest.raises(ClientClosedError):
        client.Session()

    blocking = Client(api_key=sdk_api_key, server_url=lanterna_server.url)
    blocking.close()
    with pytest.raises(ClientClosedError, match="closed; create a new Client"):
        blocking.health()


def test_blocking_client_streams_steps_and_calls_back(client: Client, demo_site: Any) -> None:
    async def follow() -> tuple[list[AgentStep], Any]:
        with client.Session() as session:
            agent = client.Agent(session=session, max_steps=10)
            agent.start(task=email_task(demo_site))
            steps = [step async for step in agent.steps()]
            return steps, agent.last_status

    streamed, final = asyncio.run(follow())
    assert final is not None and final.done and final.success is True
    assert [s.action for s in streamed] == [s.action for s in final.steps]

    called: list[int] = []
    with client.Session() as session:
        result = client.Agent(session=session).run(
            task=email_task(demo_site), on_step=lambda n, _: called.append(n)
        )
    assert called == list(range(1, len(result.steps) + 1))
