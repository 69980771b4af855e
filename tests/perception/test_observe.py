"""observe(): ids, roles, names, states and the text view of the test pages."""

from __future__ import annotations

import base64

from lanterna.browser import BrowserSession
from tests.fixtures.engine import StaticSite, latest_of, observe_latest


async def goto(session: BrowserSession, url: str) -> None:
    await session.page.goto(url)


async def test_form_page_elements_have_ids_roles_names_and_states(
    tab: BrowserSession, static_site: StaticSite
) -> None:
    await goto(tab, static_site.page("form.html"))
    obs = await observe_latest(tab)
    got = [(e.id, e.role, e.name) for e in obs.elements]
    assert got == [
        ("I1", "textbox", "Full name"),
        ("I2", "textbox", "Email"),
        ("I3", "textbox", "Password"),
        ("I4", "textbox", "Notes"),
        ("I5", "textbox", "Member code"),
        ("I6", "combobox", "Country"),
        ("B1", "checkbox", "Send me the newsletter"),
        ("B2", "checkbox", "I accept the terms"),
        ("B3", "radio", "Free"),
        ("B4", "radio", "Pro"),
        ("B5", "button", "Create account"),
        ("B6", "button", "Save for later"),
        ("L1", "link", "Back to links"),
    ]
    by_id = {e.id: e for e in obs.elements}
    assert by_id["I2"].value == "old@example.com"
    assert by_id["I6"].value == "Italy"
    assert (by_id["B1"].checked, by_id["B2"].checked, by_id["B3"].checked) == (False, True, True)
    assert by_id["B6"].disabled and not by_id["B5"].disabled
    assert all(e.ref for e in obs.elements)
    assert by_id["I6"].action_type == "select_dropdown_option" and by_id["B1"].action_type == "check"
    assert latest_of(tab).observation is obs


async def test_text_view_lists_elements_with_ids_and_keeps_readable_text(
    tab: BrowserSession, static_site: StaticSite
) -> None:
    await goto(tab, static_site.page("form.html"))
    text = (await observe_latest(tab)).text
    lines = text.splitlines()
    assert lines[0] == f"url: {static_site.page('form.html')}" and lines[1] == "title: Sign-up form"
    assert "# Create your account" in lines
    assert "Fill in the form below to join the club." in lines
    assert '[B5] button "Create account"' in lines
    assert '[B6] button "Save for later" disabled' in lines
    assert '[I2] textbox "Email" value="old@example.com"' in lines
    assert '[I1] textbox "Full name" placeholder="Ada Lovelace"' in lines
    assert '[I6] combobox "Country" value="Italy" options: France | Italy | Portugal' in lines
    assert '[B1] checkbox "Send me the newsletter" unchecked' in lines
    # A label right before its control is not repeated, and hidden elements are absent.
    assert "Full name" not in lines and "Hidden action" not in text


async def test_ids_restart_with_each_observation(tab: BrowserSession, static_site: StaticSite) -> None:
    await goto(tab, static_site.page("form.html"))
    first = await observe_latest(tab)
    await goto(tab, static_site.page("links.html"))
    second = await observe_latest(tab)
    assert first.elements[0].id == "I1"
    assert [e.id for e in second.elements][:3] == ["L1", "L2", "L3"]
    assert latest_of(tab).observation is second


async def test_iframe_elements_are_included(tab: BrowserSession, static_site: StaticSite) -> None:
    await goto(tab, static_site.page("iframe.html"))
    await tab.page.frame_locator("iframe").locator("#q").wait_for()
    obs = await observe_latest(tab)
    names = {(e.role, e.name) for e in obs.elements}
    assert ("button", "Inner button") in names and ("searchbox", "Search the inner page") in names
    assert all(e.ref.startswith("f") for e in obs.elements)  # frame refs look like f1e2


async def test_scroll_position_and_hints(tab: BrowserSession, static_site: StaticSite) -> None:
    await goto(tab, static_site.page("long.html"))
    top = await observe_latest(tab)
    vp = top.metadata.viewport
    assert (vp.scroll_y, vp.viewport_width, vp.viewport_height) == (0, 1280, 720)
    below = vp.total_height - vp.viewport_height
    assert below > 1500
    assert top.text.endswith(f"… {below} px more content below — scroll_down to see it")
    assert "more content above" not in top.text
    await tab.page.evaluate("window.scrollTo(0, 1000)")
    middle = await observe_latest(tab)
    assert middle.metadata.viewport.scroll_y == 1000
    assert "… 1000 px more content above — scroll_up to see it" in middle.text.splitlines()
    # Every element is listed wherever it is on the page.
    assert any(e.name == "Bottom button" for e in top.elements)


async def test_tabs_are_listed_and_screenshot_is_a_jpeg(tab: BrowserSession, static_site: StaticSite) -> None:
    await goto(tab, static_site.page("form.html"))
    page = await tab.context.new_page()
    await page.goto(static_site.page("tab.html"))
    obs = await observe_latest(tab, screenshot=True)
    assert [(t.tab_id, t.title) for t in obs.metadata.tabs] == [(0, "Sign-up form"), (1, "Help")]
    assert obs.metadata.url.endswith("/tab.html")  # the new tab became the active one
    assert "tabs: 0: Sign-up form | 1: Help (active)" in obs.text
    assert base64.b64decode(obs.screenshot)[:3] == b"\xff\xd8\xff"
    assert (await observe_latest(tab)).screenshot == ""


async def test_space_lists_interaction_actions(tab: BrowserSession, static_site: StaticSite) -> None:
    await goto(tab, static_site.page("dropdown.html"))
    obs = await observe_latest(tab)
    actions = obs.model_dump(mode="json")["space"]["interaction_actions"]
    size = next(a for a in actions if a["id"] == "I1")
    assert (size["type"], size["description"]) == ("select_dropdown_option", "Size")
