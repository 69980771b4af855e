"""The gestures of issue 12 through lanterna's SDK: typed models and keyword fields, and the 422
that names an unknown field."""

from __future__ import annotations

import httpx
import pytest

from lanterna import Client
from lanterna.errors import InvalidRequestError
from lanterna.models.actions import Click, Drag, Hover, Offset, Point, SelectText, TypeText
from tests.fixtures.engine import StaticSite


def test_gestures_through_the_sdk(client: Client, static_site: StaticSite) -> None:
    with client.Session(raise_on_failure=False) as session:
        assert session.execute(type="goto", url=static_site.page("gestures.html")).success

        def shown() -> str:
            return session.scrape(selector="#out", only_main_content=False).strip()

        assert session.execute(Drag(selector="#list li >> nth=0", target="#list li:last-child")).success
        assert shown() == "order: two,three,one"
        assert session.execute(Click(selector="#pad", position=Point(x=20, y=30))).success
        assert shown() == "pad at 20,30"
        assert session.execute(Hover(selector="#menu-trigger")).success
        selected = session.execute(SelectText(selector="#phrase", text="lazy dog"))
        assert selected.success and "'lazy dog'" in selected.message
        assert session.execute(TypeText(selector="#term", value="pwd", press_enter=True)).success
        assert shown() == "ran: pwd"
        multi = session.execute(type="select_dropdown_option", selector="#colors", value=["Green", "Blue"])
        assert multi.success, multi.message
        inner = session.execute(type="scroll_down", selector="#log", amount=120)
        assert inner.success and "120 px" in inner.message
        moved = session.execute(Drag(selector="#static", offset=Offset(x=30, y=0)))
        assert not moved.success and "nothing on the page changed" in moved.message

        with pytest.raises(InvalidRequestError, match="unknown field 'positon'"):
            session.execute(type="click", selector="#pad", positon={"x": 1, "y": 1})


def test_unknown_and_out_of_bounds_fields_are_a_422_naming_them(client: Client, sdk_api_key: str) -> None:
    with client.Session() as session:
        url = f"{client.server_url}/sessions/{session.session_id}/page/execute"
        headers = {"Authorization": f"Bearer {sdk_api_key}"}
        typo = httpx.post(url, headers=headers, json={"type": "click", "selector": "#a", "positon": {"x": 1}})
        assert typo.status_code == 422 and "positon" in typo.text
        far = httpx.post(url, headers=headers, json={"type": "click", "position": {"x": 99999, "y": 1}})
        assert far.status_code == 422 and "20000" in far.text
        typed = {"type": "type_text", "selector": "#a", "value": "a" * 6000}
        long = httpx.post(url, headers=headers, json=typed)
        assert long.status_code == 422 and "5000" in long.text
