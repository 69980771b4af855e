"""Where the pointer goes: the point on an element an action aims at, and what is really there.

A click that another element intercepts lands on that element, and a pointer left where the last
action was hovers whatever opens under it. Every pointer action therefore aims at an explicit
point, hit-tests it first, and says which element covers the target when one does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from playwright.async_api import Error as PlaywrightError

from lanterna.actions.locate import ActionFailed, Target
from lanterna.models.actions import Point

COVER_WAIT_S = 1.0  # an overlay fading out or a list closing gets this long to clear the point
COVER_POLL_S = 0.1

# Whether the point (relative to the element's top-left; without one, the centre of its box or of
# one of its line boxes: a link wrapped over two lines has nothing at its box's centre) hits the
# element itself. Runs in the element's own frame, so points are in that frame's coordinates.
_HIT_TEST_JS = """(e, p) => {
  const r = e.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) return {state: 'empty'};
  if (p && (p.x > r.width || p.y > r.height))
    return {state: 'outside', width: Math.round(r.width), height: Math.round(r.height)};
  const centre = q => [q.left + q.width / 2, q.top + q.height / 2];
  const points = p ? [[r.left + p.x, r.top + p.y]]
    : [centre(r), ...[...e.getClientRects()].slice(0, 6).map(centre)];
  const test = (x, y) => {
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return {state: 'offscreen'};
    let hit = document.elementFromPoint(x, y);
    while (hit && hit.shadowRoot) {  // look inside open shadow roots down to the real element
      const inner = hit.shadowRoot.elementFromPoint(x, y);
      if (!inner || inner === hit) break;
      hit = inner;
    }
    if (!hit) return {state: 'offscreen'};
    const label = hit.closest('label');
    if (hit === e || e.contains(hit) || (label && label.control === e)
        || (hit.shadowRoot && hit.shadowRoot.contains(e)))
      return {state: 'hit', x: x - r.left, y: y - r.top};
    if (hit.contains(e) && getComputedStyle(e).pointerEvents === 'none')
      return {state: 'hit', x: x - r.left, y: y - r.top};  // a decoration inside a control
    const cls = [...hit.classList].slice(0, 2).map(c => '.' + c).join('');
    const text = (hit.getAttribute('aria-label') || hit.innerText || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 60);
    return {state: 'covered', cover: hit.tagName.toLowerCase() + (hit.id ? '#' + hit.id : '') + cls, text};
  };
  let best = null;
  for (const [x, y] of points) {
    const result = test(x, y);
    if (result.state === 'hit') return result;
    if (!best || best.state === 'offscreen') best = result;  // a cover says more than off-screen
  }
  return best;
}"""


@dataclass(frozen=True)
class Aim:
    """A point on an element in main-frame viewport coordinates, ready for ``page.mouse``."""

    x: float
    y: float


def _position_dict(position: Point | None) -> dict[str, float] | None:
    return None if position is None else {"x": position.x, "y": position.y}


async def aim(target: Target, position: Point | None, timeout: int, *, force: bool = False) -> Aim:
    """Scroll the element into view and return the point to press; ``ActionFailed`` when the point
    is outside the element, or (unless ``force``) when another element covers it."""
    locator = target.locator
    await locator.scroll_into_view_if_needed(timeout=timeout)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + COVER_WAIT_S
    while True:
        result = await locator.evaluate(_HIT_TEST_JS, _position_dict(position), timeout=timeout)
        state = result.get("state")
        if state == "outside":
            assert position is not None  # only a given position can fall outside
            raise ActionFailed(
                f"position ({position.x:g}, {position.y:g}) is outside {target.label}, which is "
                f"{result['width']}×{result['height']} px; give a position within it (from its top-left)"
            )
        if state == "empty":
            raise ActionFailed(
                f"{target.label} has no size on the page (it is hidden or empty); choose another element"
            )
        if state == "hit" or force:
            break
        if loop.time() >= deadline:
            if state == "offscreen":
                raise ActionFailed(
                    f"{target.label} could not be brought into the viewport; scroll its container "
                    "(scroll_down with its selector) or choose another element"
                )
            cover = result.get("cover", "another element")
            text = f' ("{result["text"]}")' if result.get("text") else ""
            raise ActionFailed(
                f"{target.label} is covered by {cover}{text} at that point; close or move what covers it, "
                "aim at an uncovered part with 'position', or pass force=true to click it anyway"
            )
        await asyncio.sleep(COVER_POLL_S)
    box = await locator.bounding_box(timeout=timeout)
    if box is None:
        raise ActionFailed(f"{target.label} is not displayed; scroll to it or open what contains it")
    if position is not None:
        return Aim(box["x"] + position.x, box["y"] + position.y)
    if state == "hit":  # the point that hit, which may be on one line of a wrapped link
        return Aim(box["x"] + float(result["x"]), box["y"] + float(result["y"]))
    return Aim(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


async def move_to(target: Target, point: Aim) -> None:
    """Glide the pointer to ``point`` (a few steps, so enter/over events fire on the way)."""
    try:
        await target.page.mouse.move(point.x, point.y, steps=4)
    except PlaywrightError as exc:
        raise ActionFailed(f"could not move the pointer to {target.label}: {exc}") from exc
