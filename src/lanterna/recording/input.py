"""Human input into a recorded tab (live view, interactive): mouse, wheel and keyboard only.

Each event is validated (coordinates inside the viewport, a short text, keys from a fixed list,
no modifier shortcuts) and dispatched with CDP ``Input.*`` on the tab being recorded. Nothing
here navigates, opens files or runs script: a click on a link navigates like any click, through
the browser's egress proxy and policy.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from playwright.async_api import CDPSession
from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT = 200


class MouseButton(StrEnum):
    left = "left"
    middle = "middle"
    right = "right"


class Key(StrEnum):
    """Keys a viewer may press (besides typing text)."""

    Enter = "Enter"
    Backspace = "Backspace"
    Tab = "Tab"
    Escape = "Escape"
    Delete = "Delete"
    ArrowUp = "ArrowUp"
    ArrowDown = "ArrowDown"
    ArrowLeft = "ArrowLeft"
    ArrowRight = "ArrowRight"
    Home = "Home"
    End = "End"
    PageUp = "PageUp"
    PageDown = "PageDown"


# Windows virtual key codes CDP needs for keys that are not text.
_KEY_CODES = {
    Key.Enter: 13, Key.Backspace: 8, Key.Tab: 9, Key.Escape: 27, Key.Delete: 46,
    Key.ArrowUp: 38, Key.ArrowDown: 40, Key.ArrowLeft: 37, Key.ArrowRight: 39,
    Key.Home: 36, Key.End: 35, Key.PageUp: 33, Key.PageDown: 34,
}  # fmt: skip
_KEY_TEXT = {Key.Enter: "\r"}

Coordinate = Annotated[float, Field(ge=0, le=10_000)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Click(_Event):
    type: Literal["click"]
    x: Coordinate
    y: Coordinate
    button: MouseButton = MouseButton.left


class Scroll(_Event):
    type: Literal["scroll"]
    x: Coordinate
    y: Coordinate
    delta_x: float = Field(default=0, ge=-5000, le=5000)
    delta_y: float = Field(default=0, ge=-5000, le=5000)


class TypeText(_Event):
    type: Literal["text"]
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class Press(_Event):
    type: Literal["key"]
    key: Key


InputEvent = Annotated[Click | Scroll | TypeText | Press, Field(discriminator="type")]


class InputMessage(BaseModel):
    """One message a viewer sends: ``{"input": {...}}``."""

    model_config = ConfigDict(extra="forbid")
    input: InputEvent


def out_of_viewport(event: InputEvent, viewport: tuple[int, int]) -> str | None:
    """Why a pointer event cannot be dispatched, or None."""
    if isinstance(event, Click | Scroll) and not (event.x < viewport[0] and event.y < viewport[1]):
        return f"({event.x}, {event.y}) is outside the {viewport[0]}x{viewport[1]} viewport"
    return None


async def dispatch(cdp: CDPSession, event: InputEvent) -> None:
    """Send ``event`` to the tab behind ``cdp``."""
    if isinstance(event, Click):
        for kind in ("mousePressed", "mouseReleased"):
            await cdp.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": event.x, "y": event.y, "button": event.button.value, "clickCount": 1},
            )
    elif isinstance(event, Scroll):
        await cdp.send(
            "Input.dispatchMouseEvent",
            {
                "type": "mouseWheel",
                "x": event.x,
                "y": event.y,
                "deltaX": event.delta_x,
                "deltaY": event.delta_y,
            },
        )
    elif isinstance(event, TypeText):
        text = "".join(ch for ch in event.text if ch.isprintable())
        if text:
            await cdp.send("Input.insertText", {"text": text})
    else:
        code = _KEY_CODES[event.key]
        down: dict[str, object] = {"type": "keyDown", "key": event.key.value, "windowsVirtualKeyCode": code}
        if event.key in _KEY_TEXT:
            down["text"] = _KEY_TEXT[event.key]
        await cdp.send("Input.dispatchKeyEvent", down)
        await cdp.send(
            "Input.dispatchKeyEvent", {"type": "keyUp", "key": event.key.value, "windowsVirtualKeyCode": code}
        )
