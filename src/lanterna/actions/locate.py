"""Finding the element an interaction action addresses, by observation id or selector."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page

from lanterna.actions.context import ActionContext
from lanterna.browser.errors import first_line
from lanterna.models.actions import _InteractionBase
from lanterna.models.observation import InteractiveElement


class ActionFailed(Exception):
    """An ordinary failure: ``execute`` turns it into ``success=False`` with this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Target:
    """A located element: exactly one match on ``page``."""

    page: Page
    locator: Locator
    element: InteractiveElement | None
    label: str  # for messages: ``B3 (button "Add to cart")`` or ``selector '#buy'``


async def locate(ctx: ActionContext, action: _InteractionBase, timeout_ms: int) -> Target:
    """The single element the action addresses, or ``ActionFailed`` saying what to change."""
    return await locate_element(ctx, action.id, action.selector, timeout_ms)


async def locate_element(
    ctx: ActionContext, element_id: str | None, selector: str | None, timeout_ms: int
) -> Target:
    """The single element with this id in the latest observation, else matching this selector."""
    if element_id:
        return await _by_id(ctx, element_id)
    if not selector:
        raise ActionFailed("no element given: give 'id' (from observe()) or 'selector'")
    return await _by_selector(ctx.page, selector, timeout_ms)


async def _by_id(ctx: ActionContext, element_id: str) -> Target:
    observation = ctx.observed.observation if ctx.observed is not None else None
    if observation is None:
        raise ActionFailed(
            f"no element with id '{element_id}': nothing has been observed yet; call observe() first "
            "and use an id from it, or give a selector"
        )
    element = observation.element(element_id)
    if element is None:
        raise ActionFailed(
            f"no element with id '{element_id}' in the latest observation; call observe() again — "
            "ids change after each observe"
        )
    page = ctx.observed.page if ctx.observed is not None else None
    if page is None or page.is_closed() or page is not ctx.page:
        raise ActionFailed(
            f"element '{element_id}' belongs to a tab that is no longer active; call observe() again"
        )
    label = f'{element_id} ({element.role} "{element.name[:60]}")' if element.name else element_id
    # Clickables found by the page probe carry a selector; everything else an AI-snapshot ref.
    locator = page.locator(element.selector or f"aria-ref={element.ref}")
    try:
        count = await locator.count()
    except PlaywrightError:
        count = 0
    if count == 0:
        raise ActionFailed(
            f"element {label} is no longer on the page (the page changed since the latest observation); "
            "call observe() again"
        )
    return Target(page, locator, element, label)


async def _by_selector(page: Page, selector: str, timeout_ms: int) -> Target:
    locator = page.locator(selector)
    try:
        count = await locator.count()
        if count == 0 and timeout_ms > 0:
            # The element may still be on its way (rendered by a script): wait for it, bounded.
            with contextlib.suppress(PlaywrightError):
                await locator.first.wait_for(state="attached", timeout=timeout_ms)
            count = await locator.count()
    except PlaywrightError as exc:
        raise ActionFailed(f"invalid selector '{selector}': {first_line(exc)}") from exc
    if count == 0:
        raise ActionFailed(
            f"selector '{selector}' matches no element on the page; check it, or call observe() and use an id"
        )
    if count > 1:
        raise ActionFailed(
            f"selector '{selector}' matches {count} elements; use a more specific selector "
            f"(e.g. add a parent or an attribute, or append ' >> nth=0') or an id from observe()"
        )
    return Target(page, locator, None, f"selector '{selector}'")
