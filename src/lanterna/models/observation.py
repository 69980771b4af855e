"""What the agent sees of a page: ``Observation`` and its parts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field, model_serializer

from lanterna.models.actions import Action, parse_action

# Short-id prefix per accessibility role (Notte's convention).
ROLE_PREFIX: dict[str, str] = {
    "link": "L",
    "button": "B",
    "checkbox": "B",
    "radio": "B",
    "tab": "B",
    "menuitem": "B",
    "menuitemcheckbox": "B",
    "menuitemradio": "B",
    "switch": "B",
    "textbox": "I",
    "searchbox": "I",
    "combobox": "I",
    "listbox": "I",
    "slider": "I",
    "spinbutton": "I",
    "option": "O",
    "img": "F",
    "image": "F",
}
OTHER_PREFIX = "M"

# Roles by what an action does with them: type into, choose in, check.
TYPED_ROLES = frozenset({"textbox", "searchbox", "spinbutton", "slider"})
CHOICE_ROLES = frozenset({"combobox", "listbox"})
VALUE_ROLES = TYPED_ROLES | CHOICE_ROLES  # elements that hold a value
CHECKABLE_ROLES = frozenset({"checkbox", "radio", "switch", "menuitemcheckbox", "menuitemradio"})


class Viewport(BaseModel):
    scroll_x: int = 0
    scroll_y: int = 0
    viewport_width: int = 1280
    viewport_height: int = 720
    total_width: int = 1280
    total_height: int = 720


class TabInfo(BaseModel):
    tab_id: int
    title: str = ""
    url: str = ""


class PageMetadata(BaseModel):
    title: str = ""
    url: str = ""
    viewport: Viewport = Field(default_factory=Viewport)
    tabs: list[TabInfo] = Field(default_factory=list)
    timestamp: datetime


class InteractiveElement(BaseModel):
    """One element an action can address. ``id`` is valid until the next observe."""

    id: str
    role: str
    name: str = ""
    value: str | None = None
    checked: bool | None = None
    disabled: bool = False
    expanded: bool | None = None
    selected: bool | None = None
    ref: str = Field(description="Playwright AI-snapshot ref, resolvable as 'aria-ref=<ref>'")
    selector: str | None = Field(
        default=None, description="set for elements the snapshot has no ref for: how actions find them"
    )

    @property
    def action_type(self) -> Literal["click", "fill", "check", "select_dropdown_option"]:
        if self.role in TYPED_ROLES:
            return "fill"
        if self.role in CHOICE_ROLES:
            return "select_dropdown_option"
        if self.role in CHECKABLE_ROLES:
            return "check"
        return "click"

    def wire_action(self) -> dict[str, Any]:
        """The action this element affords, complete enough to validate as a wire action."""
        action: dict[str, Any] = {"type": self.action_type, "id": self.id, "description": self.name}
        if action["type"] in ("fill", "select_dropdown_option"):
            action["value"] = ""
        elif action["type"] == "check":
            action["value"] = not self.checked
        return action


class ActionSpace(BaseModel):
    """What can be done on the page: ``interaction_actions`` are typed actions (``Click``,
    ``Fill``, ``Check``, ``SelectDropdownOption``), each addressing an element by ``id`` and
    described by the element's name. Fill in a ``value`` and pass one to ``session.execute``."""

    description: str = ""
    interaction_actions: list[Action] = Field(default_factory=list)

    @model_serializer(mode="plain")
    def _wire(self) -> dict[str, Any]:
        # The wire contract's compact shape: type, id, description and the value to fill in.
        return {
            "description": self.description,
            "interaction_actions": [_offered(action) for action in self.interaction_actions],
        }


def _offered(action: Action) -> dict[str, Any]:
    offered: dict[str, Any] = {
        "type": action.type,
        "id": getattr(action, "id", None),
        "description": action.description,
    }
    if "value" in type(action).model_fields:
        offered["value"] = getattr(action, "value", None)
    return offered


class Observation(BaseModel):
    """A page as the agent sees it: metadata, addressable elements, and a compact text rendering."""

    metadata: PageMetadata
    elements: list[InteractiveElement] = Field(default_factory=list)
    text: str = Field(default="", description="compact rendering of the page for an LLM")
    screenshot: str = Field(default="", description="base64 JPEG, or '' when not requested")
    started_at: datetime
    ended_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def space(self) -> ActionSpace:
        """The actions the page affords: ``space.interaction_actions``, one typed action per element."""
        return ActionSpace(
            description=self.metadata.title,
            interaction_actions=[parse_action(e.wire_action()) for e in self.elements],
        )

    def element(self, element_id: str) -> InteractiveElement | None:
        return next((e for e in self.elements if e.id == element_id), None)
