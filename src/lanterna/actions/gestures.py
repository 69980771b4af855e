"""Pointer and keyboard gestures: hover, drag, select_text, type_text, and a click on the page.

Each one aims at an explicit point (see ``pointer``), does what a person's hand would do, and then
checks that it had an effect, so that a gesture on the wrong widget fails with a reason instead of
reporting a success nobody saw.
"""

from __future__ import annotations

import contextlib

from playwright.async_api import Error as PlaywrightError

from lanterna.actions.context import ActionContext
from lanterna.actions.locate import ActionFailed, Target, locate_element
from lanterna.actions.pointer import Aim, aim, move_to
from lanterna.models.actions import Click, Drag, Hover, SelectText, TypeText

DRAG_STEPS = 12  # intermediate moves: drag libraries start a drag only after the pointer travels

_DESCRIBE_POINT_JS = """([x, y]) => {
  const hit = document.elementFromPoint(x, y);
  if (!hit) return '';
  const text = (hit.getAttribute('aria-label') || hit.innerText || '')
    .trim().replace(/\\s+/g, ' ').slice(0, 60);
  return hit.tagName.toLowerCase() + (hit.id ? '#' + hit.id : '') + (text ? ` ("${text}")` : '');
}"""

# Counts DOM changes from now on (a drag that changed nothing did not work).
_WATCH_JS = """() => {
  const w = window.__lanternaChanges = {n: 0};
  w.observer = new MutationObserver(list => { w.n += list.length; });
  w.observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
}"""
_CHANGES_JS = """() => {
  const w = window.__lanternaChanges;
  if (!w) return -1;
  w.observer.disconnect();
  delete window.__lanternaChanges;
  return w.n;
}"""

_FOCUS_JS = """e => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a || a === document.body || a === document.documentElement) return false;
  return a === e || e.contains(a) || a.contains(e);
}"""

_SELECT_TEXT_JS = """(e, phrase) => {
  const find = (all, p) => {
    const i = all.indexOf(p);
    return i >= 0 ? i : all.toLowerCase().indexOf(p.toLowerCase());
  };
  if (e instanceof HTMLInputElement || e instanceof HTMLTextAreaElement) {
    const v = e.value;
    let start = 0, end = v.length;
    if (phrase) {
      start = find(v, phrase);
      if (start < 0) return {ok: false, text: v.slice(0, 200)};
      end = start + phrase.length;
    }
    e.focus();
    e.setSelectionRange(start, end);
    return {ok: true, selected: v.slice(start, end)};
  }
  const sel = window.getSelection();
  sel.removeAllRanges();
  const range = document.createRange();
  if (!phrase) {
    range.selectNodeContents(e);
    sel.addRange(range);
    return {ok: sel.toString().trim() !== '', selected: sel.toString(), text: ''};
  }
  const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let all = '';
  while (walker.nextNode()) { nodes.push([walker.currentNode, all.length]); all += walker.currentNode.data; }
  const i = find(all, phrase);
  if (i < 0) return {ok: false, text: all.replace(/\\s+/g, ' ').trim().slice(0, 200)};
  const j = i + phrase.length;
  const start = nodes.find(([n, off]) => off + n.data.length > i);
  const end = nodes.find(([n, off]) => off + n.data.length >= j);
  range.setStart(start[0], i - start[1]);
  range.setEnd(end[0], j - end[1]);
  sel.addRange(range);
  return {ok: true, selected: sel.toString()};
}"""


async def click_page(ctx: ActionContext, action: Click) -> str:
    """A click at a point of the viewport, on whatever is there."""
    assert action.position is not None  # the model requires a position without an element
    page = ctx.page
    size = page.viewport_size or await page.evaluate("() => ({width: innerWidth, height: innerHeight})")
    x, y = action.position.x, action.position.y
    if x >= size["width"] or y >= size["height"]:
        raise ActionFailed(
            f"position ({x:g}, {y:g}) is outside the viewport ({size['width']}×{size['height']} px); "
            "without an element, a position is in viewport coordinates"
        )
    what = await page.evaluate(_DESCRIBE_POINT_JS, [x, y])
    modifiers = [m.value for m in action.modifiers or []]
    await page.mouse.move(x, y, steps=4)
    for key in modifiers:
        await page.keyboard.down(key)
    try:
        await page.mouse.click(x, y, click_count=action.click_count)
    finally:
        for key in reversed(modifiers):
            await page.keyboard.up(key)
    await ctx.settle(page)
    on = f" on {what}" if what else " (nothing is there)"
    return f"clicked the page at ({x:g}, {y:g}){on}"


async def hover(ctx: ActionContext, target: Target, action: Hover, timeout: int) -> str:
    """Rest the pointer on the element; say how many elements it revealed (a menu, a tooltip)."""
    point = await aim(target, action.position, timeout, force=action.force)
    before = await _visible_count(target)
    await move_to(target, point)
    position = None if action.position is None else {"x": action.position.x, "y": action.position.y}
    await target.locator.hover(position=position, force=action.force, timeout=timeout)  # type: ignore[arg-type]
    await ctx.settle(target.page)
    after = await _visible_count(target)
    shown = f"; {after - before} more elements are now visible" if after > before else ""
    return f"hovered {target.label}{shown}"


async def _visible_count(target: Target) -> int:
    js = "() => [...document.querySelectorAll('body *')].filter(e => e.checkVisibility()).length"
    with contextlib.suppress(PlaywrightError):
        return int(await target.page.evaluate(js))
    return 0


async def drag(ctx: ActionContext, target: Target, action: Drag, timeout: int) -> str:
    """Press on the element, travel to the destination in steps, release; fail if nothing changed."""
    page = target.page
    start = await aim(target, None, timeout)
    if action.offset is not None:
        end = Aim(start.x + action.offset.x, start.y + action.offset.y)
        size = page.viewport_size or {"width": 0, "height": 0}
        if size["width"] and not (0 <= end.x < size["width"] and 0 <= end.y < size["height"]):
            raise ActionFailed(
                f"dragging {target.label} {action.destination} would leave the viewport "
                f"({size['width']}×{size['height']} px); drag a shorter way or scroll first"
            )
        where = action.destination
    else:
        drop = await locate_element(ctx, action.target_id, action.target, timeout)
        if drop.page is not page:
            raise ActionFailed("the drop target is in another tab; drag within one tab")
        end = await aim(drop, None, timeout, force=True)  # the dragged element may cover it
        start = await aim(target, None, timeout)  # bringing the target into view may move the source
        where = f"onto {drop.label}"
    await page.evaluate(_WATCH_JS)
    box_before = await target.locator.bounding_box(timeout=timeout)
    await move_to(target, start)
    await page.mouse.down()
    try:
        # A first small move starts the drag in libraries that wait for a threshold.
        await page.mouse.move(start.x + 3, start.y + 3, steps=2)
        await page.mouse.move(end.x, end.y, steps=DRAG_STEPS)
    finally:
        await page.mouse.up()
    await ctx.settle(page)
    changes = -1
    with contextlib.suppress(PlaywrightError):
        changes = int(await page.evaluate(_CHANGES_JS))
    box_after = None
    with contextlib.suppress(PlaywrightError):
        box_after = await target.locator.bounding_box(timeout=500)
    if changes == 0 and box_after == box_before:
        raise ActionFailed(
            f"dragged {target.label} {where}, but nothing on the page changed: it is not draggable this way "
            "(drag its handle, or check that the page supports dragging here)"
        )
    return f"dragged {target.label} {where}"


async def select_text(target: Target, action: SelectText, timeout: int) -> str:
    """Select the element's text, or the first occurrence of ``action.text`` in it."""
    result = await target.locator.evaluate(_SELECT_TEXT_JS, action.text or "", timeout=timeout)
    if not result.get("ok"):
        text = result.get("text") or ""
        if action.text:
            begins = f"; its text begins '{text[:120]}'" if text else "; it has no text"
            raise ActionFailed(f"{target.label} does not contain '{action.text}'{begins}")
        raise ActionFailed(f"{target.label} has no text to select; choose the element that holds the text")
    selected = " ".join(str(result.get("selected") or "").split())
    shown = selected if len(selected) <= 80 else selected[:79] + "…"
    return f"selected the text '{shown}' in {target.label}"


async def type_text(ctx: ActionContext, target: Target, action: TypeText, timeout: int) -> str:
    """Focus the element by clicking it, then send each character as real key events."""
    page = target.page
    if not await target.locator.evaluate(_FOCUS_JS, timeout=timeout):
        point = await aim(target, None, timeout)
        await move_to(target, point)
        await target.locator.click(timeout=timeout)
    if not await target.locator.evaluate(_FOCUS_JS, timeout=timeout):
        raise ActionFailed(
            f"{target.label} does not take keyboard focus (it is not a field, editor or terminal); "
            "address the field itself, or click what opens it first"
        )
    await page.keyboard.type(action.value, delay=action.delay_ms)
    shown = action.value if len(action.value) <= 60 else action.value[:59] + "…"
    message = f"typed '{shown}' into {target.label} key by key"
    if action.press_enter:
        await page.keyboard.press("Enter")
        message += " and pressed Enter"
    await ctx.settle(page)
    return message
