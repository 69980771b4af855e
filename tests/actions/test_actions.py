"""Every action type against the pages in tests/pages: one success, and the failure a user meets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lanterna.browser import BrowserSession
from lanterna.errors import InvalidRequestError
from lanterna.models.actions import ExecutionResult
from lanterna.scrape.markdown import scrape_page
from tests.fixtures.engine import PAGES_DIR, StaticSite, execute_observed, latest_of, observe_latest


async def run(session: BrowserSession, **action: Any) -> ExecutionResult:
    result = await execute_observed(session, action, scraper=scrape_page)
    assert result.started_at.tzinfo is not None and result.ended_at >= result.started_at
    return result


async def text_of(session: BrowserSession, selector: str) -> str:
    return (await session.page.locator(selector).text_content()) or ""


async def open_page(session: BrowserSession, site: StaticSite, name: str) -> None:
    result = await run(session, type="goto", url=site.page(name))
    assert result.success, result.message


def element_id(session: BrowserSession, role: str, name: str) -> str:
    assert latest_of(session).observation is not None
    for e in latest_of(session).observation.elements:
        if e.role == role and e.name == name:
            return e.id
    raise AssertionError(
        f"no {role} {name!r} in {[(e.role, e.name) for e in latest_of(session).observation.elements]}"
    )


# ----- navigation ---------------------------------------------------------------------------


async def test_goto_opens_the_page(tab: BrowserSession, static_site: StaticSite) -> None:
    result = await run(tab, type="goto", url=static_site.page("form.html"))
    assert result.success and result.exception is None
    assert tab.page.url == static_site.page("form.html")
    assert await tab.page.title() == "Sign-up form"


async def test_goto_an_http_error_page_fails_with_the_status(
    tab: BrowserSession, static_site: StaticSite
) -> None:
    result = await run(tab, type="goto", url=static_site.page("missing.html"))
    assert not result.success
    assert "HTTP 404" in result.message and result.exception == result.message


async def test_goto_an_unknown_host_fails_with_the_network_error(tab: BrowserSession) -> None:
    result = await run(tab, type="goto", url="http://no-such-host.invalid/")
    assert not result.success
    assert "ERR_NAME_NOT_RESOLVED" in result.message


async def test_goto_new_tab_opens_and_activates_a_tab(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    result = await run(tab, type="goto_new_tab", url=static_site.page("tab.html"))
    assert result.success, result.message
    assert len(tab.tabs) == 2 and tab.page is tab.tabs[1]
    assert tab.page.url.endswith("/tab.html")


async def test_goto_new_tab_to_an_error_page_fails(tab: BrowserSession, static_site: StaticSite) -> None:
    result = await run(tab, type="goto_new_tab", url=static_site.page("nope.html"))
    assert not result.success and "HTTP 404" in result.message


async def test_switch_tab_and_close_tab(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    await run(tab, type="goto_new_tab", url=static_site.page("tab.html"))
    switched = await run(tab, type="switch_tab", tab_index=0)
    assert switched.success and tab.page is tab.tabs[0] and tab.page.url.endswith("/form.html")
    await run(tab, type="switch_tab", tab_index=1)
    closed = await run(tab, type="close_tab")
    assert closed.success, closed.message
    assert len(tab.tabs) == 1 and tab.page.url.endswith("/form.html")


async def test_switch_to_a_missing_tab_fails(tab: BrowserSession) -> None:
    result = await run(tab, type="switch_tab", tab_index=5)
    assert not result.success and "no tab with index 5" in result.message and "0 to 0" in result.message


async def test_closing_the_only_tab_fails(tab: BrowserSession) -> None:
    result = await run(tab, type="close_tab")
    assert not result.success and "only tab" in result.message
    assert len(tab.tabs) == 1


async def test_go_back_and_forward(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    await open_page(tab, static_site, "links.html")
    back = await run(tab, type="go_back")
    assert back.success and tab.page.url.endswith("/form.html")
    forward = await run(tab, type="go_forward")
    assert forward.success and tab.page.url.endswith("/links.html")
    again = await run(tab, type="go_forward")
    assert not again.success and "no next page" in again.message


async def test_go_back_without_history_fails(pool: Any) -> None:
    session = await pool.acquire()
    try:
        result = await run(session, type="go_back")
        assert not result.success and "no previous page" in result.message
    finally:
        await pool.release(session)


async def test_reload(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    await tab.page.fill("#name", "typed")
    result = await run(tab, type="reload")
    assert result.success, result.message
    assert await tab.page.input_value("#name") == ""


async def test_reload_of_an_error_page_reports_the_status(
    tab: BrowserSession, static_site: StaticSite
) -> None:
    await run(tab, type="goto", url=static_site.page("missing.html"))
    result = await run(tab, type="reload")
    assert not result.success and "HTTP 404" in result.message


async def test_wait(tab: BrowserSession) -> None:
    result = await run(tab, type="wait", time_ms=50)
    assert result.success and (result.ended_at - result.started_at).total_seconds() >= 0.05


async def test_an_invalid_action_is_refused_with_what_to_change(tab: BrowserSession) -> None:
    with pytest.raises(InvalidRequestError, match="time_ms"):
        await execute_observed(tab, {"type": "wait", "time_ms": 999_999})
    with pytest.raises(InvalidRequestError, match="needs an element"):
        await execute_observed(tab, {"type": "click"})


async def test_press_key_reaches_the_focused_element(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "long.html")
    await tab.page.focus("#keys")
    result = await run(tab, type="press_key", key="x")
    assert result.success
    assert await text_of(tab, "#key-out") == "key: x"


async def test_press_an_unknown_key_fails(tab: BrowserSession) -> None:
    result = await run(tab, type="press_key", key="NoSuchKey")
    assert not result.success and "cannot press 'NoSuchKey'" in result.message and "Enter" in result.message


async def test_scroll_down_and_up(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "long.html")
    down = await run(tab, type="scroll_down")
    assert down.success and "scrolled down 720 px" in down.message
    assert await tab.page.evaluate("scrollY") == 720
    up = await run(tab, type="scroll_up", amount=300)
    assert up.success and await tab.page.evaluate("scrollY") == 420


async def test_scroll_up_at_the_top_says_so(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "long.html")
    result = await run(tab, type="scroll_up")
    assert "already at the top" in result.message


# ----- element actions ----------------------------------------------------------------------


async def test_click_by_id_submits_the_form(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    await tab.page.fill("#name", "Ada")
    await observe_latest(tab)
    result = await run(tab, type="click", id=element_id(tab, "button", "Create account"))
    assert result.success, result.message
    assert await text_of(tab, "#result") == "Welcome, Ada (free)"


async def test_click_by_selector(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "links.html")
    result = await run(tab, type="click", selector="text=Sign-up form")
    assert result.success and tab.page.url.endswith("/form.html")
    assert "the page is now" in result.message


async def test_click_on_a_new_tab_link_follows_the_new_tab(
    tab: BrowserSession, static_site: StaticSite
) -> None:
    await open_page(tab, static_site, "links.html")
    await observe_latest(tab)
    result = await run(tab, type="click", id=element_id(tab, "link", "Open the help in a new tab"))
    assert result.success and "new tab" in result.message
    assert len(tab.tabs) == 2 and tab.page is tab.tabs[1]
    assert await tab.page.title() == "Help"


async def test_selector_waits_for_an_element_that_appears(
    tab: BrowserSession, static_site: StaticSite
) -> None:
    await open_page(tab, static_site, "links.html")
    await run(tab, type="click", selector="#later-btn")
    result = await run(tab, type="click", selector="#late")
    assert result.success, result.message


async def test_click_an_unknown_id_says_to_observe_again(
    tab: BrowserSession, static_site: StaticSite
) -> None:
    await open_page(tab, static_site, "form.html")
    result = await run(tab, type="click", id="B99")
    assert not result.success and "observe() first" in result.message
    await observe_latest(tab)
    result = await run(tab, type="click", id="B99")
    assert not result.success
    assert result.message == (
        "no element with id 'B99' in the latest observation; call observe() again"
        " — ids change after each observe"
    )


async def test_a_stale_id_after_navigation_fails(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    await observe_latest(tab)
    submit = element_id(tab, "button", "Create account")
    await open_page(tab, static_site, "tab.html")
    result = await run(tab, type="click", id=submit)
    assert not result.success and "no longer on the page" in result.message and "observe()" in result.message


async def test_selector_matching_nothing_or_several(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "links.html")
    none = await run(tab, type="click", selector="#does-not-exist", timeout=300)
    assert not none.success and "matches no element" in none.message
    two = await run(tab, type="click", selector="button.twin")
    assert not two.success and "matches 2 elements" in two.message and "more specific" in two.message


async def test_click_a_disabled_button_fails(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    result = await run(tab, type="click", selector="#later", timeout=500)
    assert not result.success and "is disabled" in result.message


async def test_click_a_hidden_button_fails(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    result = await run(tab, type="click", selector="#secret", timeout=500)
    assert not result.success and "not visible" in result.message


async def test_fill_by_id_and_press_enter(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    await observe_latest(tab)
    result = await run(
        tab, type="fill", id=element_id(tab, "textbox", "Full name"), value="Grace", press_enter=True
    )
    assert result.success and "pressed Enter" in result.message
    assert await text_of(tab, "#result") == "Welcome, Grace (free)"


async def test_fill_replaces_or_appends(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    await run(tab, type="fill", selector="#email", value="new@example.com")
    assert await tab.page.input_value("#email") == "new@example.com"
    await run(tab, type="fill", selector="#email", value=".org", clear_before_fill=False)
    assert await tab.page.input_value("#email") == "new@example.com.org"


async def test_fill_a_read_only_field_fails(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    result = await run(tab, type="fill", selector="#code", value="x", timeout=500)
    assert not result.success and "not editable" in result.message


async def test_fill_a_button_fails(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    result = await run(tab, type="fill", selector="#submit", value="x", timeout=500)
    assert not result.success and "not a text field" in result.message


async def test_check_and_uncheck(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    await observe_latest(tab)
    on = await run(tab, type="check", id=element_id(tab, "checkbox", "Send me the newsletter"), value=True)
    assert on.success and await tab.page.is_checked("#newsletter")
    off = await run(tab, type="check", selector="#terms", value=False)
    assert off.success and not await tab.page.is_checked("#terms")
    same = await run(tab, type="check", selector="#terms", value=False)
    assert same.success and "already unchecked" in same.message
    radio = await run(tab, type="check", id=element_id(tab, "radio", "Pro"), value=True)
    assert radio.success and await tab.page.is_checked("input[value=pro]")


async def test_check_wrong_elements_fails(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    button = await run(tab, type="check", selector="#submit", value=True, timeout=500)
    assert not button.success and "not a checkbox or radio button" in button.message
    radio = await run(tab, type="check", selector="input[value=free]", value=False, timeout=500)
    assert not radio.success and "cannot be unchecked" in radio.message


async def test_select_a_native_option_by_label_or_value(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "dropdown.html")
    await observe_latest(tab)
    size = element_id(tab, "combobox", "Size")
    by_label = await run(tab, type="select_dropdown_option", id=size, value="Large")
    assert by_label.success and await text_of(tab, "#size-out") == "size: l"
    by_value = await run(tab, type="select_dropdown_option", selector="#size", value="m")
    assert by_value.success and await text_of(tab, "#size-out") == "size: m"


async def test_select_a_missing_option_lists_the_options(
    tab: BrowserSession, static_site: StaticSite
) -> None:
    await open_page(tab, static_site, "dropdown.html")
    result = await run(tab, type="select_dropdown_option", selector="#size", value="Huge")
    assert not result.success
    assert "no option 'Huge'" in result.message and "'Small', 'Medium', 'Large'" in result.message


async def test_select_in_an_aria_combobox(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "dropdown.html")
    await observe_latest(tab)
    fruit = element_id(tab, "combobox", "Fruit")
    result = await run(tab, type="select_dropdown_option", id=fruit, value="Banana")
    assert result.success, result.message
    assert await text_of(tab, "#fruit-out") == "fruit: Banana"
    missing = await run(tab, type="select_dropdown_option", selector="#fruit", value="Mango")
    assert not missing.success and "no option 'Mango'" in missing.message
    assert missing.message.endswith("visible options: 'Apple', 'Banana', 'Cherry'")


async def test_upload_a_file(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "upload.html")
    files = [PAGES_DIR / "files"]  # as the tenant's uploads folder
    direct = await execute_observed(
        tab, {"type": "upload_file", "selector": "#doc", "file_path": "report.csv"}, file_roots=files
    )
    assert direct.success and await text_of(tab, "#upload-out") == "doc: report.csv"
    await observe_latest(tab)
    chooser = await execute_observed(
        tab,
        {"type": "upload_file", "id": element_id(tab, "button", "Choose a photo"), "file_path": "report.csv"},
        file_roots=files,
    )
    assert chooser.success, chooser.message
    assert await text_of(tab, "#upload-out") == "photo: report.csv"


async def test_upload_fails_for_a_missing_file_or_a_non_file_element(
    tab: BrowserSession, static_site: StaticSite
) -> None:
    await open_page(tab, static_site, "upload.html")
    missing = await run(tab, type="upload_file", selector="#doc", file_path="/no/such/file.txt")
    assert not missing.success and "is not one of your files" in missing.message
    host_path = await run(
        tab, type="upload_file", selector="#doc", file_path=str(PAGES_DIR / "files" / "report.csv")
    )
    assert not host_path.success and "POST /storage/uploads/{name}" in host_path.message
    heading = await execute_observed(
        tab,
        {"type": "upload_file", "selector": "h1", "file_path": "report.csv", "timeout": 500},
        file_roots=[PAGES_DIR / "files"],
    )
    assert not heading.success and "opened no file chooser" in heading.message


async def test_download_a_file(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "download.html")
    result = await run(tab, type="download_file", selector="#report")
    assert result.success, result.message
    saved = tab.downloads_dir / "report.csv"
    assert str(saved) in result.message and result.data is not None and result.data.markdown == str(saved)
    assert saved.read_text() == (PAGES_DIR / "files" / "report.csv").read_text()


async def test_download_from_a_plain_link_fails(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "download.html")
    result = await run(tab, type="download_file", selector="#plain", timeout=800)
    assert not result.success and "started no download" in result.message


async def test_elements_inside_an_iframe(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "iframe.html")
    await tab.page.frame_locator("iframe").locator("#q").wait_for()
    await observe_latest(tab)
    search = element_id(tab, "searchbox", "Search the inner page")
    filled = await run(tab, type="fill", id=search, value="lamps")
    clicked = await run(tab, type="click", id=element_id(tab, "button", "Inner button"))
    assert filled.success and clicked.success, (filled.message, clicked.message)
    inner = tab.page.frame_locator("iframe").locator("#inner-out")
    assert await inner.text_content() == "inner clicked: lamps"


# ----- data actions -------------------------------------------------------------------------


async def test_scrape_returns_markdown(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "article.html")
    result = await run(tab, type="scrape")
    assert result.success and result.data is not None
    assert "# Lanterns through history" in result.data.markdown


async def test_scrape_with_a_selector_matching_nothing_fails(
    tab: BrowserSession, static_site: StaticSite
) -> None:
    await open_page(tab, static_site, "article.html")
    result = await run(tab, type="scrape", selector="#nothing")
    assert not result.success and "matches no element" in result.message


async def test_evaluate_js_returns_json(tab: BrowserSession, static_site: StaticSite) -> None:
    await open_page(tab, static_site, "form.html")
    title = await run(tab, type="evaluate_js", code="document.title")
    assert title.success and title.data is not None and title.data.markdown == "Sign-up form"
    obj = await run(tab, type="evaluate_js", code="({inputs: document.querySelectorAll('input').length})")
    assert obj.data is not None and obj.data.structured is not None
    assert obj.data.structured.data == {"inputs": 8}


async def test_evaluate_js_that_throws_fails(tab: BrowserSession) -> None:
    result = await run(tab, type="evaluate_js", code="(() => { throw new Error('boom') })()")
    assert not result.success and "the script failed" in result.message and "boom" in result.message


async def test_completion_carries_the_answer(tab: BrowserSession) -> None:
    result = await run(tab, type="completion", success=True, answer="the email is help@example.com")
    assert result.success and result.message == "the email is help@example.com"
    failed = await run(tab, type="completion", success=False, answer="could not find it")
    assert failed.success and failed.message == "could not find it"


async def test_actions_on_a_closed_session_fail(pool: Any, tmp_path: Path) -> None:
    session = await pool.acquire()
    await pool.release(session, "user stopped it")
    result = await run(session, type="goto", url="http://127.0.0.1:9/")
    assert not result.success and "session is closed (user stopped it)" in result.message
