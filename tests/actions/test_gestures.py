"""Gestures (issue 12) on tests/pages/gestures.html: each works on a fitting widget and fails
with a clear message on a wrong one; fills and selects report what the page really kept."""

from __future__ import annotations

from typing import Any

import pytest

from lanterna.actions.execute import execute
from lanterna.browser import BrowserSession
from lanterna.errors import InvalidRequestError
from lanterna.models.actions import ExecutionResult
from tests.fixtures.engine import StaticSite


async def run(session: BrowserSession, **action: Any) -> ExecutionResult:
    return await execute(session, action)


async def out(session: BrowserSession) -> str:
    return (await session.page.locator("#out").text_content()) or ""


@pytest.fixture
async def page(tab: BrowserSession, static_site: StaticSite) -> BrowserSession:
    result = await run(tab, type="goto", url=static_site.page("gestures.html"))
    assert result.success, result.message
    return tab


async def test_unknown_fields_are_refused_and_named(tab: BrowserSession) -> None:
    with pytest.raises(InvalidRequestError, match="positon"):
        await execute(tab, {"type": "click", "selector": "#x", "positon": {"x": 1, "y": 1}})
    # notte's client sends these two on every action
    ok = await execute(tab, {"type": "go_back", "category": "Browser", "description": "Go back"})
    assert not ok.success and "no previous page" in ok.message


@pytest.mark.parametrize(
    ("action", "limit"),
    [
        ({"type": "click", "selector": "#x", "position": {"x": 10**6, "y": 0}}, "20000"),
        ({"type": "click", "selector": "#x", "click_count": 9}, "3"),
        ({"type": "drag", "selector": "#x", "offset": {"x": 0, "y": -(10**6)}}, "-20000"),
        ({"type": "type_text", "selector": "#x", "value": "a" * 5001}, "5000"),
        ({"type": "select_dropdown_option", "selector": "#x", "value": ["a"] * 101}, "100"),
    ],
)
def test_new_fields_are_bounded(action: dict[str, Any], limit: str) -> None:
    from pydantic import ValidationError

    from lanterna.models.actions import parse_action

    with pytest.raises(ValidationError, match=limit):
        parse_action(action)


async def test_drag_onto_another_element_and_a_static_one_fails(page: BrowserSession) -> None:
    ok = await run(page, type="drag", selector="#list li >> nth=0", target="#list li:last-child")
    assert ok.success, ok.message
    assert await out(page) == "order: two,three,one"
    bad = await run(page, type="drag", selector="#static", offset={"x": 40, "y": 0})
    assert not bad.success and "nothing on the page changed" in bad.message
    away = await run(page, type="drag", selector="#static", offset={"x": -5000, "y": 0})
    assert not away.success and "leave the viewport" in away.message


async def test_click_at_a_position_and_double_click(page: BrowserSession) -> None:
    ok = await run(page, type="click", selector="#pad", position={"x": 20, "y": 30})
    assert ok.success, ok.message
    assert await out(page) == "pad at 20,30"
    outside = await run(page, type="click", selector="#pad", position={"x": 500, "y": 30})
    assert not outside.success and "outside" in outside.message
    dbl = await run(page, type="click", selector="#dbl", click_count=2)
    assert dbl.success and "double-clicked" in dbl.message
    assert await out(page) == "double clicked"
    box = await page.page.locator("#pad").bounding_box()
    assert box is not None
    on_page = await run(page, type="click", position={"x": box["x"] + 5, "y": box["y"] + 6})
    assert on_page.success and "div#pad" in on_page.message
    assert await out(page) == "pad at 5,6"


async def test_covered_click_names_the_cover_and_force_clicks(page: BrowserSession) -> None:
    covered = await run(page, type="click", selector="#covered", timeout=1000)
    assert not covered.success and "covered by div#overlay" in covered.message and "force" in covered.message
    assert await out(page) == ""
    forced = await run(page, type="click", selector="#covered", force=True)
    assert forced.success, forced.message
    assert await out(page) == "bought"


async def test_a_link_wrapped_over_two_lines_is_not_covered(page: BrowserSession) -> None:
    # The centre of its box can fall between its two line boxes, on the heading around it.
    ok = await run(page, type="click", selector="#wrapped")
    assert ok.success, ok.message
    assert await out(page) == "wrapped link"


async def test_hover_opens_a_menu(page: BrowserSession) -> None:
    assert not await page.page.locator("#submenu").is_visible()
    ok = await run(page, type="hover", selector="#menu-trigger")
    assert ok.success and "more elements are now visible" in ok.message, ok.message
    assert await page.page.locator("#submenu").is_visible()
    hidden = await run(page, type="hover", selector="#suggestions", timeout=500)
    assert not hidden.success and ("hidden" in hidden.message or "not visible" in hidden.message)


async def test_select_text_and_a_missing_phrase(page: BrowserSession) -> None:
    ok = await run(page, type="select_text", selector="#phrase", text="brown fox")
    assert ok.success and "'brown fox'" in ok.message
    assert await page.page.evaluate("() => getSelection().toString()") == "brown fox"
    whole = await run(page, type="select_text", selector="#dbl")
    assert whole.success and "Double me" in whole.message
    bad = await run(page, type="select_text", selector="#phrase", text="purple cat")
    assert not bad.success and "does not contain 'purple cat'" in bad.message and "quick brown" in bad.message


async def test_type_text_sends_keys_and_fails_on_an_unfocusable_box(page: BrowserSession) -> None:
    ok = await run(page, type="type_text", selector="#term", value="ls", press_enter=True)
    assert ok.success, ok.message
    assert await out(page) == "ran: ls"
    bad = await run(page, type="type_text", selector="#plain", value="ls")
    assert not bad.success and "keyboard focus" in bad.message


async def test_multi_select_and_a_list_on_a_single_select(page: BrowserSession) -> None:
    ok = await run(page, type="select_dropdown_option", selector="#colors", value=["Red", "Blue"])
    assert ok.success and "'Red', 'Blue'" in ok.message
    chosen = await page.page.eval_on_selector("#colors", "e => [...e.selectedOptions].map(o => o.label)")
    assert chosen == ["Red", "Blue"]
    bad = await run(page, type="select_dropdown_option", selector="#size", value=["S", "L"])
    assert not bad.success and "one option only" in bad.message


async def test_modifiers_on_click(page: BrowserSession) -> None:
    await page.page.evaluate(
        "() => document.getElementById('pad').addEventListener('click', e => "
        "{ if (e.shiftKey) document.getElementById('out').textContent = 'shift'; })"
    )
    ok = await run(page, type="click", selector="#pad", modifiers=["Shift"])
    assert ok.success and await out(page) == "shift"


async def test_scroll_inside_an_element(page: BrowserSession) -> None:
    window = await run(page, type="scroll_down")
    assert window.success and "already at the bottom" in window.message and "textarea#log" in window.message
    ok = await run(page, type="scroll_down", selector="#log", amount=300)
    assert ok.success and "scrolled selector '#log' down 300 px" in ok.message, ok.message
    assert await page.page.eval_on_selector("#log", "e => e.scrollTop") == 300
    bad = await run(page, type="scroll_down", selector="#dbl")
    assert not bad.success and "does not scroll" in bad.message


async def test_fill_dates_and_times_converts_or_says_the_format(page: BrowserSession) -> None:
    day = await run(page, type="fill", selector="#when", value="10/22/2016")
    assert day.success, day.message
    assert await page.page.input_value("#when") == "2016-10-22"
    at = await run(page, type="fill", selector="#at", value="8:17 AM")
    assert at.success and await page.page.input_value("#at") == "08:17"
    month = await run(page, type="fill", selector="#month", value="October 2016")
    assert month.success and await page.page.input_value("#month") == "2016-10"
    bad = await run(page, type="fill", selector="#when", value="next tuesday")
    assert not bad.success and "2016-10-22" in bad.message


async def test_fill_read_only_fails_at_once(page: BrowserSession) -> None:
    result = await run(page, type="fill", selector="#ro", value="x", timeout=5000)
    assert not result.success and "read-only" in result.message
    assert (result.ended_at - result.started_at).total_seconds() < 2


async def test_select_on_an_autocomplete_list(page: BrowserSession) -> None:
    ok = await run(page, type="select_dropdown_option", selector="#city", value="Parma")
    assert ok.success, ok.message
    assert await page.page.input_value("#city") == "Parma" and await out(page) == "city: Parma"
    bad = await run(page, type="select_dropdown_option", selector="#city", value="Zurich", timeout=1000)
    assert not bad.success and "shows no option 'Zurich'" in bad.message


async def test_fill_moves_the_pointer_off_what_opens_below(page: BrowserSession) -> None:
    # The pointer rests where the suggestion list will open; filling must not leave it there.
    assert (await run(page, type="click", selector="#below")).success
    filled = await run(page, type="fill", selector="#city", value="Pa")
    assert filled.success, filled.message
    assert await page.page.locator("#suggestions").is_visible()
    assert await page.page.evaluate("() => document.querySelector('#suggestions li:hover')") is None


def test_type_text_duration_is_bounded() -> None:
    from pydantic import ValidationError

    from lanterna.models.actions import parse_action

    with pytest.raises(ValidationError, match="longer than 20 s"):
        parse_action({"type": "type_text", "selector": "#x", "value": "a" * 1000, "delay_ms": 100})


def test_every_action_type_has_an_example_that_validates() -> None:
    from lanterna.models.actions import ACTION_ADAPTER, ACTION_TYPES, EXAMPLES, parse_action

    assert set(EXAMPLES) == set(ACTION_TYPES)
    for example in EXAMPLES.values():
        assert parse_action(example).type == example["type"]
    schemas = ACTION_ADAPTER.json_schema()["$defs"]
    assert schemas["Drag"]["examples"] == [EXAMPLES["drag"]]


def test_the_llm_prompt_describes_the_gestures() -> None:
    from lanterna.reasoners.prompts import SYSTEM_PROMPT, action_schema

    for word in ("hover", "drag", "select_text", "type_text", "position", "force", "click_count"):
        assert word in SYSTEM_PROMPT + action_schema()


def test_the_llm_reasoner_refuses_an_unknown_drop_target_id() -> None:
    from datetime import UTC, datetime

    from lanterna.models.actions import Drag
    from lanterna.models.agent import ReasonerState
    from lanterna.models.observation import InteractiveElement, Observation, PageMetadata
    from lanterna.reasoners.base import Decision
    from lanterna.reasoners.llm import unknown_ids

    now = datetime.now(UTC)
    observation = Observation(
        metadata=PageMetadata(timestamp=now),
        elements=[InteractiveElement(id="M1", role="generic", name="card", ref="e1")],
        started_at=now,
        ended_at=now,
    )
    unknown = Decision(state=ReasonerState(), action=Drag(id="M1", target_id="M9"))
    assert "'M9'" in (unknown_ids(unknown, observation) or "")
    known = Decision(state=ReasonerState(), action=Drag(id="M1", target_id="M1"))
    assert unknown_ids(known, observation) is None
