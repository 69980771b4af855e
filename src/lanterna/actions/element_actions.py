"""Interaction actions: click, fill, check, select_dropdown_option, upload_file, download_file,
and the gestures hover, drag, select_text and type_text (in ``gestures``)."""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePosixPath
from typing import Literal

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import FilePayload, Frame, Locator, Page, Request
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from lanterna.actions import gestures
from lanterna.actions.context import ActionContext
from lanterna.actions.input_formats import WANTED, input_kind, to_input_value
from lanterna.actions.locate import ActionFailed, Target, locate
from lanterna.actions.pointer import aim, move_to
from lanterna.browser.errors import first_line
from lanterna.models.actions import (
    Check,
    Click,
    DownloadFile,
    Drag,
    FallbackFill,
    Fill,
    Hover,
    SelectDropdownOption,
    SelectText,
    TypeText,
    UploadFile,
    _InteractionBase,
)
from lanterna.models.scrape import DataSpace
from lanterna.store.uploads import plain_name, read_plain_file

NEW_TAB_WAIT_S = 2.0
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Playwright refuses larger in-memory files
HOW_TO_UPLOAD = (
    "upload_file takes the name of a file you uploaded (POST /storage/uploads/{name}, or "
    "client.files.upload(path) with the SDK) or of a file this session downloaded, never a path on the "
    "server"
)
DOWNLOAD_SAVE_TIMEOUT_S = 120.0

_OPENS_NEW_TAB_JS = """e => {
  const a = e.closest('a[href], area[href]') || e.closest('form');
  const t = a ? (a.getAttribute('target') || '') : '';
  return t !== '' && !['_self', '_parent', '_top'].includes(t.toLowerCase());
}"""

_IS_FILE_INPUT_JS = "e => e.tagName === 'INPUT' && (e.type || '').toLowerCase() === 'file'"

# Index of the <option> best matching each wanted text: exact label, exact value, then
# case-insensitive; -1 for one that matches nothing.
_FIND_OPTION_JS = """(e, wanted) => {
  if (e.tagName !== 'SELECT') return {select: false};
  const opts = [...e.options];
  const norm = s => (s || '').trim().replace(/\\s+/g, ' ').toLowerCase();
  const find = w => {
    const tests = [o => o.label === w, o => o.value === w,
                   o => norm(o.label) === norm(w), o => norm(o.value) === norm(w),
                   o => norm(o.label).includes(norm(w))];
    for (const t of tests) {
      const i = opts.findIndex(t);
      if (i >= 0) return i;
    }
    return -1;
  };
  const indices = wanted.map(find);
  return {select: true, multiple: e.multiple, indices,
          labels: indices.map(i => i >= 0 ? opts[i].label : null), options: opts.map(o => o.label)};
}"""

# What fill needs to know before it types: the kind of field and whether it takes input at all.
_FIELD_JS = """e => ({
  tag: e.tagName, type: (e.type || '').toLowerCase(),
  readonly: !!e.readOnly || e.getAttribute('aria-readonly') === 'true',
  disabled: !!e.disabled || e.getAttribute('aria-disabled') === 'true',
  has_value: 'value' in e && (e.tagName === 'INPUT' || e.tagName === 'TEXTAREA'),
})"""


async def _explain(target: Target, verb: str, exc: PlaywrightError, timeout_ms: int) -> str:
    """Why an element action failed, in words that say what to do next."""
    message = first_line(exc)
    label = target.label
    if "not an <input>" in message or "not have a role allowing" in message:
        return f"{label} is not a text field; fill needs a textbox (input, textarea or contenteditable)"
    if "Not a checkbox or radio button" in message:
        return f"{label} is not a checkbox or radio button; use click instead"
    if "Cannot uncheck radio button" in message:
        return f"{label} is a radio button and cannot be unchecked; check another option of its group"
    if "not a <select>" in message:
        return f"{label} is not a dropdown (<select>)"
    if not isinstance(exc, PlaywrightTimeoutError):
        return f"{verb} on {label} failed: {message}"
    locator = target.locator
    try:
        if not await locator.is_visible(timeout=500):
            return (
                f"{label} is not visible; scroll to it, open the menu or dialog that contains it, "
                "or choose another element"
            )
        if not await locator.is_enabled(timeout=500):
            return f"{label} is disabled; complete what it depends on first or choose another element"
        if verb == "fill" and not await locator.is_editable(timeout=500):
            return f"{label} is not editable (read-only); choose another field"
    except PlaywrightError:
        pass
    return (
        f"{verb} on {label} timed out after {timeout_ms} ms; another element (a dialog, banner or "
        "overlay) may cover it — close it or choose another element"
    )


async def run_interaction(ctx: ActionContext, action: _InteractionBase) -> tuple[str, DataSpace | None]:
    """Locate the element, run the action, and return its success message and data."""
    timeout = action.timeout or ctx.timeout_ms  # 0 would mean "wait forever" to Playwright
    if isinstance(action, Click) and not action.id and not action.selector:
        return await gestures.click_page(ctx, action), None
    target = await locate(ctx, action, timeout)
    verb = action.type.replace("_", " ")
    try:
        if isinstance(action, Click):
            return await _click_element(ctx, target, action, timeout), None
        if isinstance(action, Hover):
            return await gestures.hover(ctx, target, action, timeout), None
        if isinstance(action, Drag):
            return await gestures.drag(ctx, target, action, timeout), None
        if isinstance(action, SelectText):
            return await gestures.select_text(target, action, timeout), None
        if isinstance(action, TypeText):
            return await gestures.type_text(ctx, target, action, timeout), None
        if isinstance(action, FallbackFill):
            return await _fallback_fill(target, action, timeout), None
        if isinstance(action, Fill):
            return await _fill(ctx, target, action, timeout), None
        if isinstance(action, Check):
            return await _check(target, action, timeout), None
        if isinstance(action, SelectDropdownOption):
            return await _select(ctx, target, action.value, timeout), None
        if isinstance(action, UploadFile):
            return await _upload(ctx, target, action, timeout), None
        if isinstance(action, DownloadFile):
            return await _download(ctx, target, timeout)
    except ActionFailed:
        raise
    except PlaywrightError as exc:
        raise ActionFailed(await _explain(target, verb, exc, timeout)) from exc
    raise ActionFailed(f"unsupported interaction '{action.type}'")


class _NavigationWatch:
    """Main-frame navigations on ``page`` while a click runs: the one requested, and its commit."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.request: Request | None = None
        self.committed = asyncio.Event()

    def _on_request(self, request: Request) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.request = request
            self.committed.clear()

    def _on_navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame and self.request is not None:
            self.committed.set()

    def __enter__(self) -> _NavigationWatch:
        self.page.on("request", self._on_request)
        self.page.on("framenavigated", self._on_navigated)
        return self

    def __exit__(self, *exc: object) -> None:
        self.page.remove_listener("request", self._on_request)
        self.page.remove_listener("framenavigated", self._on_navigated)


async def _click_started_navigation(
    ctx: ActionContext, target: Target, watch: _NavigationWatch, exc: PlaywrightTimeoutError
) -> str:
    """The click timed out waiting for the navigation it started (a slow server): it went through.
    Wait for that page within the navigation timeout; raise ``exc`` if no click happened."""
    clicked = "click action done" in str(exc)  # Playwright's call log says so when it clicked
    if watch.request is None and not clicked:
        raise exc
    page = target.page
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.navigation_timeout_ms / 1000
    if watch.request is not None:
        try:
            await asyncio.wait_for(watch.committed.wait(), ctx.navigation_timeout_ms / 1000)
        except TimeoutError:
            return (
                f"clicked {target.label}; it opened {watch.request.url}, which is still loading after "
                f"{ctx.navigation_timeout_ms} ms — observe again later, or go back"
            )
    remaining_ms = max(0.0, (deadline - loop.time()) * 1000)
    with contextlib.suppress(PlaywrightError):
        await page.wait_for_load_state("domcontentloaded", timeout=max(remaining_ms, 1))
    return f"clicked {target.label}; the page is now {page.url}"


async def _click_element(ctx: ActionContext, target: Target, action: Click, timeout: int) -> str:
    """Aim (hit test), glide the pointer there, then press; a forced click without a position is a
    script click on the element itself, through whatever covers it."""
    point = await aim(target, action.position, timeout, force=action.force)
    position = None if action.position is None else {"x": action.position.x, "y": action.position.y}
    modifiers = [m.value for m in action.modifiers or []]

    async def press() -> None:
        if action.force and position is None:
            await target.locator.evaluate("e => e.click()", timeout=timeout)
            return
        await move_to(target, point)
        await target.locator.click(
            position=position,  # type: ignore[arg-type]
            click_count=action.click_count,
            modifiers=modifiers,  # type: ignore[arg-type]
            force=action.force,
            timeout=timeout,
        )

    message = await _click(ctx, target, timeout, press)
    how = {2: "double-", 3: "triple-"}.get(action.click_count, "")
    if how:
        message = message.replace("clicked", f"{how}clicked", 1)
    if action.force:
        message += " (forced)"
    return message


async def _click(
    ctx: ActionContext, target: Target, timeout: int, press: Callable[[], Awaitable[None]] | None = None
) -> str:
    page = target.page
    url_before = page.url
    tabs_before = len(ctx.session.tabs)
    try:
        opens_tab = bool(await target.locator.evaluate(_OPENS_NEW_TAB_JS, timeout=timeout))
    except PlaywrightError:
        opens_tab = False
    with _NavigationWatch(page) as watch:
        try:
            await (press() if press is not None else target.locator.click(timeout=timeout))
        except PlaywrightTimeoutError as exc:
            # Playwright's click also waits for the navigation it starts; blaming the element then is wrong.
            return await _click_started_navigation(ctx, target, watch, exc)
    if opens_tab:
        new_tab = await ctx.wait_for_new_tab(tabs_before, NEW_TAB_WAIT_S)
    else:  # a script may still open one (window.open): it shows up by the time the page settled
        await ctx.settle(page)
        new_tab = await ctx.wait_for_new_tab(tabs_before, 0)
    if new_tab is not None:
        ctx.session.activate(new_tab)
        await ctx.settle(new_tab)
        return f"clicked {target.label}; it opened a new tab, now active: {new_tab.url}"
    await ctx.settle(page)
    if page.url != url_before:
        return f"clicked {target.label}; the page is now {page.url}"
    return f"clicked {target.label}"


def _shown(value: str) -> str:
    return value if len(value) <= 60 else value[:59] + "…"


async def _fill(ctx: ActionContext, target: Target, action: Fill, timeout: int) -> str:
    field = await target.locator.evaluate(_FIELD_JS, timeout=timeout)
    if field.get("tag") == "SELECT":
        return await _select(ctx, target, action.value, timeout)
    # Ask first: Playwright would wait out the whole timeout on a field that never becomes editable.
    if field.get("disabled"):
        raise ActionFailed(
            f"{target.label} is disabled; complete what it depends on first or choose another field"
        )
    if field.get("readonly"):
        raise ActionFailed(
            f"{target.label} is not editable (read-only); it is set by the page (a picker, a computed "
            "value): use the control that sets it, or choose another field"
        )
    value = action.value
    kind = input_kind(str(field.get("type") or "")) if field.get("tag") == "INPUT" else None
    if kind is not None:
        converted = to_input_value(kind, value)
        if converted is None:
            raise ActionFailed(
                f"{target.label} is a {kind.value} field and cannot take '{_shown(value)}'; "
                f"give {WANTED[kind]}"
            )
        value = converted
    await _rest_pointer_on(target, timeout)
    if action.clear_before_fill or kind is not None:
        await target.locator.fill(value, timeout=timeout)
    else:
        await target.locator.click(timeout=timeout)
        await target.page.keyboard.press("End")
        await target.page.keyboard.insert_text(value)
    message = f"filled {target.label} with '{_shown(action.value)}'"
    if field.get("has_value"):
        message = await _verify_fill(target, action.value, value, kind is not None, message, timeout)
    if action.press_enter:
        await target.locator.press("Enter", timeout=timeout)
        await ctx.settle(target.page)
        message += " and pressed Enter"
    return message


async def _fallback_fill(target: Target, action: FallbackFill, timeout: int) -> str:
    """For inputs whose scripts ignore a programmatic fill: real focus, select-all, key presses."""
    await target.locator.click(timeout=timeout)
    if action.clear_before_fill:
        await target.page.keyboard.press("ControlOrMeta+A")
        await target.page.keyboard.press("Delete")
    await target.page.keyboard.type(action.value)
    message = f"typed '{_shown(action.value)}' into {target.label}"
    if action.press_enter:
        await target.page.keyboard.press("Enter")
        message += " and pressed Enter"
    return message


async def _rest_pointer_on(target: Target, timeout: int) -> None:
    """Put the pointer on the field, so that a list opening below it is not hovered by a pointer
    left there by an earlier action. No actionability wait: a covered field can still be filled."""
    with contextlib.suppress(PlaywrightError):
        await target.locator.scroll_into_view_if_needed(timeout=min(timeout, 1000))
        box = await target.locator.bounding_box(timeout=min(timeout, 1000))
        if box is not None:
            await target.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


async def _verify_fill(
    target: Target, given: str, wanted: str, fixed_format: bool, message: str, timeout: int
) -> str:
    """Read the value back: a field may refuse, truncate or reformat what was typed."""
    now = str(await target.locator.input_value(timeout=timeout))
    if now == wanted:
        return message if wanted == given else f"{message} (as '{wanted}')"
    if fixed_format or (wanted and not now):
        raise ActionFailed(
            f"{target.label} did not keep '{_shown(given)}' (it shows '{_shown(now)}'); the field may want "
            "another format or refuse this value — check its label or placeholder, or try type_text"
        )
    return f"{message}; the field now shows '{_shown(now)}'"  # reformatted or cut by the page


async def _check(target: Target, action: Check, timeout: int) -> str:
    was = await target.locator.is_checked(timeout=timeout)
    word = "checked" if action.value else "unchecked"
    if was == action.value:
        return f"{target.label} was already {word}"
    await target.locator.set_checked(action.value, timeout=timeout)
    return f"{word} {target.label}"


async def _select(ctx: ActionContext, target: Target, value: str | list[str], timeout: int) -> str:
    wanted = value if isinstance(value, list) else [value]
    info = await target.locator.evaluate(_FIND_OPTION_JS, wanted, timeout=timeout)
    if info.get("select"):
        indices: list[int] = info.get("indices") or []
        missing = [w for w, i in zip(wanted, indices, strict=True) if i < 0]
        if missing:
            options = info.get("options") or []
            shown = ", ".join(f"'{o}'" for o in options[:20]) + (" …" if len(options) > 20 else "")
            names = ", ".join(f"'{m}'" for m in missing)
            raise ActionFailed(f"{target.label} has no option {names}; its options are: {shown}")
        if len(set(indices)) > 1 and not info.get("multiple"):
            raise ActionFailed(
                f"{target.label} takes one option only (it is not a <select multiple>); give one value"
            )
        await target.locator.select_option(index=indices, timeout=timeout)
        await ctx.settle(target.page)
        labels = ", ".join(f"'{label}'" for label in info.get("labels") or [])
        return f"selected {labels} in {target.label}"
    if len(wanted) > 1:
        raise ActionFailed(
            f"{target.label} is not a <select multiple>; select one option per action (a single value)"
        )
    return await _select_aria(ctx, target, wanted[0], timeout)


# The roles a scripted popup gives its choices: ARIA listboxes and menus, and plain lists
# (jQuery UI and many autocompletes render <ul><li>).
ChoiceRole = Literal["option", "menuitem", "treeitem", "listitem"]
_CHOICE_ROLES: tuple[ChoiceRole, ...] = ("option", "menuitem", "treeitem", "listitem")
AUTOCOMPLETE_WAIT_MS = 2000


async def _select_aria(ctx: ActionContext, target: Target, value: str, timeout: int) -> str:
    """A scripted combobox, listbox or autocomplete: open it (typing the value into a text field
    when no option shows), then click the visible choice with that name."""
    page = target.page
    locator = target.locator
    scope: Page | Locator = page
    role = await locator.get_attribute("role", timeout=timeout)
    field = await locator.evaluate(_FIELD_JS, timeout=timeout)
    typable = bool(field.get("has_value")) and not field.get("readonly")
    if role == "listbox":
        scope = locator
    else:
        await locator.click(timeout=timeout)
        controlled = await locator.get_attribute("aria-controls") or await locator.get_attribute("aria-owns")
        if controlled:  # look only in the list this combobox opens
            scope = page.locator(f"[id='{controlled.split()[0]}']")
    first_wait = min(timeout, 500 if typable else AUTOCOMPLETE_WAIT_MS)  # typing shows more, sooner
    option = await _visible_choice(scope, value, first_wait, typable)
    if option is None and typable:
        # An autocomplete offers its suggestions only for what was typed.
        await locator.fill(value, timeout=timeout)
        await page.keyboard.press("End")  # a key event too: some lists only listen to keys
        option = await _visible_choice(scope, value, min(timeout, AUTOCOMPLETE_WAIT_MS), typable)
    if option is not None:
        point = await aim(Target(page, option, None, f"option '{value}'"), None, timeout)
        await move_to(Target(page, option, None, value), point)
        await option.click(timeout=timeout)
        await ctx.settle(page)
        message = f"selected '{value}' in {target.label}"
        if typable:
            with contextlib.suppress(PlaywrightError):
                message += f"; the field now shows '{_shown(await locator.input_value(timeout=1000))}'"
        return message
    options = scope.get_by_role("option").filter(visible=True)
    names = [n.strip() for n in await options.all_inner_texts()][:20]
    hint = f"; visible options: {', '.join(repr(n) for n in names)}" if names else ""
    raise ActionFailed(f"{target.label} shows no option '{value}'{hint}")


async def _visible_choice(scope: Page | Locator, value: str, wait_ms: int, lists: bool) -> Locator | None:
    """The visible choice named ``value`` (exact name first), waiting up to ``wait_ms`` for it."""
    roles = _CHOICE_ROLES if lists else _CHOICE_ROLES[:3]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_ms / 1000
    wanted = value.strip()
    while True:
        for exact in (True, False):
            for role in roles:
                if role == "listitem":  # a list item takes no name from its content: match its text
                    text = re.compile(rf"^\s*{re.escape(wanted)}\s*$" if exact else re.escape(wanted), re.I)
                    choice = scope.get_by_role(role).filter(has_text=text, visible=True)
                else:
                    choice = scope.get_by_role(role, name=value, exact=exact).filter(visible=True)
                if await choice.count():
                    # Of nested items that all hold the text, the exact one is the innermost.
                    return choice.last if role == "listitem" and exact else choice.first
        if loop.time() >= deadline:
            return None
        await asyncio.sleep(0.1)


def _file_to_upload(ctx: ActionContext, file_path: str) -> FilePayload:
    """The named file from the tenant's uploads or the session's downloads, read without following
    symlinks; ``ActionFailed`` for anything else (host paths, ``..``, symlinks out)."""
    roots = [*ctx.file_roots, ctx.session.downloads_dir]
    wanted = PurePosixPath(os.path.normpath(file_path)) if file_path else PurePosixPath()
    if wanted.is_absolute():  # e.g. the path a download_file reported: only directly in a root
        places = [root for root in roots if os.path.normpath(root) == str(wanted.parent)]
    else:
        places = roots if len(wanted.parts) == 1 else []
    for root in places:
        content = read_plain_file(root, wanted.name, MAX_UPLOAD_BYTES)
        if content is not None:
            mime = mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
            return {"name": wanted.name, "mimeType": mime, "buffer": content}
    yours = [f.name for root in ctx.file_roots for f in _listed(root)][:10]
    listed = f" Your uploads: {', '.join(yours)}." if yours else " You have no uploads yet."
    raise ActionFailed(f"{file_path!r} is not one of your files: {HOW_TO_UPLOAD}.{listed}")


def _listed(root: Path) -> list[Path]:
    with contextlib.suppress(OSError):
        return sorted(p for p in root.iterdir() if plain_name(p.name) and p.is_file() and not p.is_symlink())
    return []


async def _upload(ctx: ActionContext, target: Target, action: UploadFile, timeout: int) -> str:
    payload = _file_to_upload(ctx, action.file_path)
    if await target.locator.evaluate(_IS_FILE_INPUT_JS, timeout=timeout):
        await target.locator.set_input_files(payload, timeout=timeout)
    else:
        try:
            async with target.page.expect_file_chooser(timeout=timeout) as chooser_info:
                await target.locator.click(timeout=timeout)
            chooser = await chooser_info.value
        except PlaywrightTimeoutError as exc:
            raise ActionFailed(
                f"{target.label} is not a file input and clicking it opened no file chooser; "
                "address the file input (e.g. selector 'input[type=file]') instead"
            ) from exc
        await chooser.set_files(payload)
    return f"uploaded '{payload['name']}' to {target.label}"


async def _download(ctx: ActionContext, target: Target, timeout: int) -> tuple[str, DataSpace]:
    try:
        async with target.page.expect_download(timeout=timeout) as download_info:
            await target.locator.click(timeout=timeout)
        download = await download_info.value
    except PlaywrightTimeoutError as exc:
        raise ActionFailed(
            f"clicking {target.label} started no download within {timeout} ms; choose the link or "
            "button that downloads the file"
        ) from exc
    ctx.session.downloads_dir.mkdir(parents=True, exist_ok=True)
    destination = _free_path(ctx.session.downloads_dir, download.suggested_filename or "download")
    try:
        await asyncio.wait_for(download.save_as(destination), timeout=DOWNLOAD_SAVE_TIMEOUT_S)
    except TimeoutError as exc:
        await download.cancel()
        raise ActionFailed(f"the download did not finish within {DOWNLOAD_SAVE_TIMEOUT_S:.0f} s") from exc
    failure = await download.failure()
    if failure:
        raise ActionFailed(f"the download failed: {failure}")
    size = destination.stat().st_size
    message = f"downloaded '{destination.name}' ({size} bytes) to {destination}"
    return message, DataSpace(markdown=str(destination))


def _free_path(directory: Path, name: str) -> Path:
    """``name`` in ``directory``, suffixed ``-1``, ``-2`` … when taken."""
    name = Path(name).name or "download"
    candidate = directory / name
    stem, suffix = candidate.stem, candidate.suffix
    n = 1
    while candidate.exists():
        candidate = directory / f"{stem}-{n}{suffix}"
        n += 1
    return candidate
