"""Perception additions (issue 12) on tests/pages/clickables.html: clickable elements without a
role, SVG text and shapes in observe() and scrape(), and form values in scrape()."""

from __future__ import annotations

import pytest

from lanterna.browser import BrowserSession
from lanterna.scrape.markdown import scrape_page
from tests.fixtures.engine import StaticSite, execute_observed, latest_of, observe_latest


@pytest.fixture
async def page(tab: BrowserSession, static_site: StaticSite) -> BrowserSession:
    result = await execute_observed(tab, {"type": "goto", "url": static_site.page("clickables.html")})
    assert result.success, result.message
    return tab


def _id(text: str, name: str) -> str:
    line = next(line for line in text.splitlines() if f'"{name}"' in line)
    return line.split("]")[0].lstrip("[")


async def test_clickables_without_a_role_get_ids_and_work(page: BrowserSession) -> None:
    obs = await observe_latest(page)
    text = obs.text
    for name in ("Prev", "Next", "Close", "Open the card"):
        assert _id(text, name).startswith("M"), text
    assert "clickable elements without a role:" in text and 'clickable "red"' in text
    next_id = _id(text, "Next")
    clicked = await execute_observed(page, {"type": "click", "id": next_id})
    assert clicked.success, clicked.message
    assert await page.page.locator("#month").text_content() == "November 2016"
    await observe_latest(page)
    red = await execute_observed(page, {"type": "click", "id": _id(latest_of(page).observation.text, "red")})  # type: ignore[union-attr]
    assert red.success and await page.page.locator("#picked").text_content() == "picked red"


async def test_without_the_probe_only_the_tree_is_rendered(page: BrowserSession) -> None:
    text = (await observe_latest(page, probe=False)).text
    assert "clickable elements without a role" not in text and '"Prev"' not in text


async def test_svg_text_and_shapes(page: BrowserSession) -> None:
    obs = await observe_latest(page)
    assert "figure: Sales 2016 | Q2" in obs.text
    shape = _id(obs.text, "Q1: 120")
    assert next(e for e in obs.elements if e.id == shape).role == "shape"
    clicked = await execute_observed(page, {"type": "click", "id": shape})
    assert clicked.success and await page.page.locator("#picked").text_content() == "picked p1"


async def test_scrape_shows_input_values_and_svg_text(page: BrowserSession) -> None:
    result = await execute_observed(page, {"type": "scrape", "only_main_content": False}, scraper=scrape_page)
    assert result.success and result.data is not None
    markdown = result.data.markdown
    assert " ".join(markdown.split()).endswith("Name Ada [x]"), markdown
    assert "Sales 2016" in markdown and "Q1: 120" in markdown
