"""Interaction actions: click, fill, check, select_dropdown_option, upload_file, download_file."""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
from pathlib import Path, PurePosixPath

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import FilePayload, Frame, Locator, Page, Request
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from lanterna.actions.context import ActionContext
from lanterna.actions.locate import ActionFailed, Target, first_line, locate
from lanterna.actions.models import (
    Check,
    Click,
    DataSpace,
    DownloadFile,
    Fill,
    SelectDropdownOption,
    UploadFile,
    _InteractionBase,
)
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

# Index of the <option> best matching the wanted text: exact label, exact value, then case-insensitive.
_FIND_OPTION_JS = """(e, wanted) => {
  if (e.tagName !== 'SELECT') return {select: false};
  const opts = [...e.options];
  const norm = s => (s || '').trim().replace(/\\s+/g, ' ').toLowerCase();
  const tests = [o => o.label === wanted, o => o.value === wanted,
                 o => norm(o.label) === norm(wanted), o => norm(o.value) === norm(wanted),
                 o => norm(o.label).includes(norm(wanted))];
  for (const t of tests) {
    const i = opts.findIndex(t);
    if (i >= 0) return {select: true, index: i, label: opts[i].label};
  }
  return {select: true, index: -1, options: opts.map(o => o.label)};
}"""


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
    target = await locate(ctx.session, action, timeout)
    verb = action.type.replace("_", " ")
    try:
        if isinstance(action, Click):
            return await _click(ctx, target, timeout), None
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


async def _click(ctx: ActionContext, target: Target, timeout: int) -> str:
    page = target.page
    url_before = page.url
    tabs_before = len(ctx.session.tabs)
    try:
        opens_tab = bool(await target.locator.evaluate(_OPENS_NEW_TAB_JS, timeout=timeout))
    except PlaywrightError:
        opens_tab = False
    with _NavigationWatch(page) as watch:
        try:
            await target.locator.click(timeout=timeout)
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


async def _fill(ctx: ActionContext, target: Target, action: Fill, timeout: int) -> str:
    info = await target.locator.evaluate(_FIND_OPTION_JS, action.value, timeout=timeout)
    if info.get("select"):
        return await _select(ctx, target, action.value, timeout)
    if action.clear_before_fill:
        await target.locator.fill(action.value, timeout=timeout)
    else:
        await target.locator.click(timeout=timeout)
        await target.page.keyboard.press("End")
        await target.page.keyboard.insert_text(action.value)
    shown = action.value if len(action.value) <= 60 else action.value[:59] + "…"
    message = f"filled {target.label} with '{shown}'"
    if action.press_enter:
        await target.locator.press("Enter", timeout=timeout)
        await ctx.settle(target.page)
        message += " and pressed Enter"
    return message


async def _check(target: Target, action: Check, timeout: int) -> str:
    was = await target.locator.is_checked(timeout=timeout)
    word = "checked" if action.value else "unchecked"
    if was == action.value:
        return f"{target.label} was already {word}"
    await target.locator.set_checked(action.value, timeout=timeout)
    return f"{word} {target.label}"


async def _select(ctx: ActionContext, target: Target, value: str, timeout: int) -> str:
    info = await target.locator.evaluate(_FIND_OPTION_JS, value, timeout=timeout)
    if info.get("select"):
        index = info.get("index", -1)
        if index < 0:
            options = info.get("options") or []
            shown = ", ".join(f"'{o}'" for o in options[:20]) + (" …" if len(options) > 20 else "")
            raise ActionFailed(f"{target.label} has no option '{value}'; its options are: {shown}")
        await target.locator.select_option(index=index, timeout=timeout)
        await ctx.settle(target.page)
        return f"selected '{info.get('label')}' in {target.label}"
    return await _select_aria(ctx, target, value, timeout)


async def _select_aria(ctx: ActionContext, target: Target, value: str, timeout: int) -> str:
    """A scripted combobox or listbox: open it, then click the visible option with that name."""
    page = target.page
    locator = target.locator
    scope: Page | Locator = page
    if await locator.get_attribute("role", timeout=timeout) == "listbox":
        scope = locator
    else:
        await locator.click(timeout=timeout)
        controlled = await locator.get_attribute("aria-controls") or await locator.get_attribute("aria-owns")
        if controlled:  # look only in the list this combobox opens
            scope = page.locator(f"[id='{controlled.split()[0]}']")
    options = scope.get_by_role("option").filter(visible=True)
    with contextlib.suppress(PlaywrightError):  # the list may open with a short animation
        await options.first.wait_for(state="visible", timeout=min(timeout, 2000))
    for exact in (True, False):
        option = scope.get_by_role("option", name=value, exact=exact).filter(visible=True)
        if await option.count():
            await option.first.click(timeout=timeout)
            await ctx.settle(page)
            return f"selected '{value}' in {target.label}"
    names = [n.strip() for n in await options.all_inner_texts()][:20]
    hint = f"; visible options: {', '.join(repr(n) for n in names)}" if names else ""
    raise ActionFailed(f"{target.label} shows no option '{value}'{hint}")


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
