"""The gestures of issue 12 through the official notte-sdk 1.8.6 against a lanterna server.

notte-sdk validates actions on the client: the existing types (``fill``, ``select_dropdown_option``)
work unchanged; the new types need their declaration on the client side, which is what a notte
user adds (docs/sdk.md, "notte-sdk and the new gestures"), and then go through
``session.execute(type=…)`` as any other action.
"""

from __future__ import annotations

from lanterna.models.actions import parse_action
from tests.fixtures.engine import StaticSite
from tests.fixtures.sdk import NotteRunner

# What a notte-sdk user declares so that the client knows lanterna's new action types.
DECLARE = """
import functools, operator
from typing import Annotated, Literal
from pydantic import Field
from notte_core.actions.actions import BaseAction, InteractionAction
from notte_core.browser import observation
import notte_sdk.endpoints.page as page_endpoint

class _Message:  # not an action itself: notte registers every concrete action class
    description: str

    def execution_message(self) -> str:
        return self.description

class DragAction(_Message, InteractionAction):
    type: Literal["drag"] = "drag"
    description: str = "Drag an element onto another or by an offset"
    target: str | None = None
    target_id: str | None = None
    offset: dict[str, float] | None = None

class HoverAction(_Message, InteractionAction):
    type: Literal["hover"] = "hover"
    description: str = "Move the pointer onto an element"

class SelectTextAction(_Message, InteractionAction):
    type: Literal["select_text"] = "select_text"
    description: str = "Select the text of an element or a phrase in it"
    text: str | None = None

class TypeTextAction(_Message, InteractionAction):
    type: Literal["type_text"] = "type_text"
    description: str = "Type text key by key"
    value: str

# Results echo the action: let the client parse the new types too.
_Every = functools.reduce(operator.or_, BaseAction.ACTION_REGISTRY.values())
_Union = Annotated[_Every, Field(discriminator="type")]

class ExecutionResult(observation.ExecutionResult):
    action: _Union  # type: ignore

page_endpoint.ExecutionResultResponse = ExecutionResult
"""


def test_notte_client_runs_the_new_gestures_and_the_fixed_answers(
    notte: NotteRunner, static_site: StaticSite
) -> None:
    out = notte.run(
        DECLARE
        + f"""
from notte_sdk import NotteClient

client = NotteClient()
out = {{}}
with client.Session() as session:
    session.execute(type="goto", url={static_site.page("gestures.html")!r})
    def run(**action):
        r = session.execute(raise_on_failure=False, **action)
        return [r.success, r.message]
    def shown():
        return session.scrape(selector="#out", only_main_content=False).strip()
    out["drag"] = run(type="drag", selector="#list li >> nth=0", target="#list li:last-child")
    out["order"] = shown()
    out["drag_static"] = run(type="drag", selector="#static", offset={{"x": 40, "y": 0}})
    out["hover"] = run(type="hover", selector="#menu-trigger")
    out["select_text"] = run(type="select_text", selector="#phrase", text="brown fox")
    out["type_text"] = run(type="type_text", selector="#term", value="ls", press_enter=True)
    out["ran"] = shown()
    out["date"] = run(type="fill", selector="#when", value="10/22/2016")
    out["bad_date"] = run(type="fill", selector="#when", value="someday")
    out["read_only"] = run(type="fill", selector="#ro", value="x")
    out["autocomplete"] = run(type="select_dropdown_option", selector="#city", value="Parma")
    out["city"] = shown()
emit(out)
"""
    )
    assert out["drag"][0] is True, out["drag"]
    assert out["order"] == "order: two,three,one"
    assert out["drag_static"][0] is False and "nothing on the page changed" in out["drag_static"][1]
    assert out["hover"][0] is True
    assert out["select_text"] == [True, "selected the text 'brown fox' in selector '#phrase'"]
    assert out["type_text"][0] is True and out["ran"] == "ran: ls"
    assert out["date"][0] is True and "2016-10-22" in out["date"][1]
    assert out["bad_date"][0] is False and "2016-10-22" in out["bad_date"][1]
    assert out["read_only"][0] is False and "read-only" in out["read_only"][1]
    assert out["autocomplete"][0] is True and out["city"] == "city: Parma"


def test_what_notte_sends_for_each_action_validates() -> None:
    """notte's client adds ``category``, ``description`` and its selector object to every action:
    refusing unknown fields must not refuse those."""
    sent = {
        "type": "click", "category": "Interaction Actions", "description": "Click on an element",
        "id": "", "timeout": 5000, "text_label": None,
        "selector": {"css_selector": "", "xpath_selector": "", "in_iframe": False, "in_shadow_root": False,
                     "notte_selector": "", "iframe_parent_css_selectors": [],
                     "playwright_selector": "#buy", "python_selector": ""},
    }  # fmt: skip
    echoed = {"type": "click", "selector": "#buy", "timeout": 5000, "click_count": 1, "force": False}
    assert parse_action(sent).wire() == echoed
    scrape = {
        "type": "scrape",
        "category": "Data",
        "description": "Scrape",
        "instructions": None,
        "only_main_content": True,
        "only_images": False,
        "scrape_links": True,
        "scrape_images": False,
    }
    assert parse_action(scrape).type == "scrape"
