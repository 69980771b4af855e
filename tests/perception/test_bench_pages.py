"""observe() on saved real-world pages (../shared/bench-pages, read in place; skipped when absent)."""

from __future__ import annotations

import re

import pytest

from lanterna.browser import BrowserSession
from tests.fixtures.engine import BENCH_PAGES_DIR, StaticSite, execute_observed, observe_latest

pytestmark = pytest.mark.benchpages

INTERACTIVE_ROLES = (
    "link|button|textbox|searchbox|combobox|checkbox|radio|switch|tab|menuitem|menuitemcheckbox"
    "|menuitemradio|option|slider|spinbutton|listbox"
)
RAW_INTERACTIVE = re.compile(rf"^\s*- '?({INTERACTIVE_ROLES})\b[^\n]*?\[ref=([a-z0-9]+)\]", re.M)

EXPECTED = {
    "github_signin.html": [
        ("textbox", "Username or email address"),
        ("textbox", "Password"),
        ("button", "Sign in"),
        ("link", "Create an account"),
    ],
    "duckduckgo.html": [("combobox", "Search with DuckDuckGo"), ("link", "Add Extension")],
    "checkout-polywood.html": [("textbox", "Email"), ("combobox", "State"), ("radio", "Credit card")],
    "checkout-crate_and_barrel.html": [("combobox", "State Required")],
}


@pytest.mark.parametrize("name", list(EXPECTED))
async def test_observe_finds_every_interactive_element(
    tab: BrowserSession, bench_site: StaticSite, name: str
) -> None:
    await tab.page.goto(bench_site.page(name), wait_until="load")
    raw = await tab.page.aria_snapshot(mode="ai")
    obs = await observe_latest(tab)
    found = {(e.role, e.name) for e in obs.elements}
    for expected in EXPECTED[name]:
        assert expected in found, f"{expected} missing from {name}"
    raw_refs = {ref for _, ref in RAW_INTERACTIVE.findall(raw)}
    observed_refs = {e.ref for e in obs.elements}
    assert raw_refs and raw_refs <= observed_refs, f"{name}: {sorted(raw_refs - observed_refs)} not observed"
    # Much smaller than the raw snapshot, and every id is in the text view.
    assert len(obs.text) < len(raw) / 2
    for e in obs.elements:
        assert f"[{e.id}] " in obs.text


async def test_act_on_a_saved_page_by_id(tab: BrowserSession, bench_site: StaticSite) -> None:
    await tab.page.goto(bench_site.page("github_signin.html"), wait_until="load")
    obs = await observe_latest(tab)
    login = next(e for e in obs.elements if e.name == "Username or email address")
    result = await execute_observed(tab, {"type": "fill", "id": login.id, "value": "octocat"})
    assert result.success, result.message
    assert await tab.page.get_by_label("Username or email address").input_value() == "octocat"
    again = await observe_latest(tab)
    assert f'[{login.id}] textbox "Username or email address" value="octocat"' in again.text


async def test_every_saved_page_keeps_its_elements_within_the_budget(
    tab: BrowserSession, bench_site: StaticSite
) -> None:
    """All saved pages: the clickables probe adds ids without losing any or flooding the view."""
    total_chars = 0
    for path in sorted(BENCH_PAGES_DIR.glob("*.html")):
        await tab.page.goto(bench_site.page(path.name), wait_until="load")
        raw = await tab.page.aria_snapshot(mode="ai")
        tree = await observe_latest(tab, probe=False)
        obs = await observe_latest(tab)
        raw_refs = {ref for _, ref in RAW_INTERACTIVE.findall(raw)}
        assert raw_refs <= {e.ref for e in obs.elements}, path.name
        assert len(tree.elements) <= len(obs.elements) <= len(tree.elements) + 10, path.name
        for e in obs.elements:
            if e.selector:  # a probe find resolves to exactly one element
                assert await tab.page.locator(e.selector).count() == 1, (path.name, e)
        total_chars += len(obs.text)
    assert total_chars <= 56_000  # the rendering budget of the perception benchmark
