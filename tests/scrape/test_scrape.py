"""scrape_page: markdown of the page or part of it, links and images kept or dropped, image lists."""

from __future__ import annotations

import pytest

from lanterna.browser import BrowserSession
from lanterna.errors import InvalidRequestError
from lanterna.models.actions import Scrape
from lanterna.scrape.markdown import scrape_page
from tests.fixtures.engine import StaticSite


@pytest.fixture
async def article(tab: BrowserSession, static_site: StaticSite) -> BrowserSession:
    await tab.page.goto(static_site.page("article.html"))
    return tab


async def test_main_content_only(article: BrowserSession, static_site: StaticSite) -> None:
    data = await scrape_page(article.page, Scrape())
    md = data.markdown
    assert md.startswith("# Lanterns through history")
    assert "Lanterns have lit the way for **centuries**." in md
    assert f"[help page]({static_site.page('tab.html')})" in md  # absolute link targets
    assert "## Materials" in md and "- Tin" in md and "curator@example.com" in md
    for furniture in (
        "Site header",
        "Join",
        "Sponsored",
        "Footer text",
        "not content",
        "Invisible paragraph",
    ):
        assert furniture not in md
    assert "![" not in md  # images are left out unless asked for


async def test_whole_page_keeps_navigation_and_footer(article: BrowserSession) -> None:
    md = (await scrape_page(article.page, Scrape(only_main_content=False))).markdown
    assert "Site header" in md and "Footer text © lanterna" in md and "Sponsored" in md
    assert "not content" not in md  # scripts never count


async def test_links_and_images_options(article: BrowserSession, static_site: StaticSite) -> None:
    md = (await scrape_page(article.page, Scrape(scrape_links=False, scrape_images=True))).markdown
    assert "Read the help page for more." in md and "](" + static_site.page("tab.html") not in md
    assert f"![A paper lantern]({static_site.page('files/lantern.png')})" in md


async def test_selector_limits_the_scrape(article: BrowserSession) -> None:
    md = (await scrape_page(article.page, Scrape(selector="ul"))).markdown
    assert md.split() == ["-", "Paper", "-", "Tin", "-", "Glass"]
    with pytest.raises(InvalidRequestError, match="matches no element"):
        await scrape_page(article.page, Scrape(selector="table"))


async def test_ignored_tags(article: BrowserSession) -> None:
    md = (await scrape_page(article.page, Scrape(ignored_tags=["ul", "strong"]))).markdown
    assert "Tin" not in md and "centuries" not in md and "Materials" in md


async def test_only_images(article: BrowserSession, static_site: StaticSite) -> None:
    data = await scrape_page(article.page, Scrape(only_images=True))
    assert data.markdown == ""
    assert data.images is not None
    got = [(i.url, i.category, i.description) for i in data.images]
    assert got == [
        (static_site.page("files/icon.png"), "favicon", None),
        (static_site.page("files/lantern.png"), "content_image", "A paper lantern"),
    ]


async def test_instructions_alone_get_what_the_page_labels(article: BrowserSession) -> None:
    data = await scrape_page(article.page, Scrape(instructions="list the materials"))
    assert data.markdown.startswith("# Lanterns through history")
    assert data.structured is not None and data.structured.success, data.structured
    assert isinstance(data.structured.data, dict) and "Tin" in data.structured.data["materials"]
    assert (await scrape_page(article.page, Scrape())).structured is None
