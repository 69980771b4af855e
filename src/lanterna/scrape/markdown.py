"""Page (or the part under a selector) → markdown, or the list of its images."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Protocol

from markdownify import markdownify
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from lanterna.browser.errors import first_line
from lanterna.errors import InvalidRequestError, LanternaError
from lanterna.models.actions import Scrape
from lanterna.models.scrape import DataSpace, ImageData, StructuredData
from lanterna.scrape.extract import extract_structured

# Never content, whatever the options.
ALWAYS_DROPPED = ["script", "style", "noscript", "template", "link", "meta", "head", "iframe", "object"]
# Page furniture dropped with only_main_content.
FURNITURE = [
    "nav", "header", "footer", "aside", "form[role=search]",
    "[role=navigation]", "[role=banner]", "[role=contentinfo]", "[role=complementary]",
    "[aria-hidden=true]", "dialog:not([open])",
]  # fmt: skip

# Copies the visible part of the root(s) into a detached tree, dropping hidden nodes and the
# given selectors, with absolute link and image URLs; returns its HTML and its images.
_EXTRACT_JS = """([selector, dropped, mainOnly]) => {
  let roots;
  if (selector) {
    roots = [...document.querySelectorAll(selector)];
  } else if (mainOnly) {
    const mains = [...document.querySelectorAll('main, [role=main]')].filter(e => e.checkVisibility());
    const articles = [...document.querySelectorAll('article')].filter(e => e.checkVisibility());
    roots = mains.length ? mains : (articles.length === 1 ? articles : [document.body]);
  } else {
    roots = [document.body];
  }
  const dropSel = dropped.join(',');
  const images = [];
  const copy = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.nodeValue);
    if (node.nodeType !== Node.ELEMENT_NODE) return null;
    if (dropSel && node.matches(dropSel)) return null;
    const tag = node.tagName.toLowerCase();
    if (!node.checkVisibility({visibilityProperty: true})) return null;
    if (tag === 'svg') {
      // A drawing says something through its <text> labels and the <title> of its shapes (a chart's
      // points); a bare icon says nothing.
      const parts = [...node.querySelectorAll('text, title')]
        .map(t => t.textContent.trim().replace(/\\s+/g, ' ')).filter(Boolean);
      if (!parts.length) return null;
      const figure = document.createElement('p');
      figure.textContent = parts.join(' | ');
      return figure;
    }
    const out = document.createElement(tag);
    for (const a of ['alt', 'title', 'colspan', 'rowspan']) {
      if (node.hasAttribute(a)) out.setAttribute(a, node.getAttribute(a));
    }
    if (tag === 'a' && node.href) out.setAttribute('href', node.href);
    if (tag === 'img') {
      const src = node.currentSrc || node.src;
      if (src) out.setAttribute('src', src);
      images.push({url: src || '', w: node.width, h: node.height, alt: node.alt || ''});
    }
    if (tag === 'input' || tag === 'textarea' || tag === 'select') {
      // A form control's value as text in a <span>: text inside a void <input> serialises to nothing.
      const type = (node.type || '').toLowerCase();
      if (type === 'password' || type === 'hidden' || type === 'file') return null;
      let value = node.value;
      if (type === 'checkbox' || type === 'radio') value = node.checked ? '[x]' : '[ ]';
      else if (tag === 'select') value = [...node.selectedOptions].map(o => o.label).join(', ');
      if (!value) return null;
      const shown = document.createElement('span');
      shown.textContent = ` ${value} `;
      return shown;
    }
    for (const child of node.childNodes) {
      const c = copy(child);
      if (c) out.appendChild(c);
    }
    return out;
  };
  const html = roots.map(r => { const c = copy(r); return c ? c.outerHTML : ''; }).join('\\n');
  const icon = document.querySelector('link[rel~=icon]');
  return {count: roots.length, html, images, favicon: icon ? icon.href : ''};
}"""

_BLANK_LINES = re.compile(r"\n{3,}")
EXTRACT_TIMEOUT_S = 30.0


class StructuredExtractor(Protocol):
    """Turns a scraped page into structured data (an LLM, when one is configured)."""

    async def extract(
        self, markdown: str, schema: dict[str, Any] | None, instructions: str | None
    ) -> StructuredData: ...


async def scrape_page(page: Page, request: Scrape, extractor: StructuredExtractor | None = None) -> DataSpace:
    """The page as markdown (``DataSpace.markdown``) or its images (``only_images``).

    ``selector`` limits the result to the matching elements; ``only_main_content`` keeps the
    main/article part and drops navigation, headers, footers and asides; ``scrape_links`` and
    ``scrape_images`` keep links and images in the markdown (otherwise only their text stays).
    ``instructions`` / ``response_format`` add ``structured`` data: from ``extractor`` when given,
    else from the page's labelled values (``extract_structured``).
    Raises ``InvalidRequestError`` when the selector matches nothing.
    """
    dropped = list(ALWAYS_DROPPED)
    if request.only_main_content and not request.selector:
        dropped += FURNITURE
    dropped += [t for t in (request.ignored_tags or []) if t.strip()]
    try:
        extracted: dict[str, Any] = await asyncio.wait_for(
            page.evaluate(_EXTRACT_JS, [request.selector, dropped, request.only_main_content]),
            timeout=EXTRACT_TIMEOUT_S,
        )
    except TimeoutError as exc:
        raise LanternaError(
            f"the page did not answer within {EXTRACT_TIMEOUT_S:.0f} s (a script may be blocking it)"
        ) from exc
    except PlaywrightError as exc:
        message = first_line(exc)
        if request.selector and ("SyntaxError" in message or "not a valid selector" in message):
            raise InvalidRequestError(
                f"'{request.selector}' is not a valid CSS selector for scrape; give a CSS selector"
            ) from exc
        raise LanternaError(f"could not read the page: {message}") from exc
    if request.selector and not extracted.get("count"):
        raise InvalidRequestError(
            f"scrape selector '{request.selector}' matches no element on the page; check it or leave it out"
        )
    if request.only_images:
        return DataSpace(images=_images(extracted))
    strip = []
    if not request.scrape_links:
        strip.append("a")
    if not request.scrape_images:
        strip.append("img")
    markdown = await asyncio.to_thread(_to_markdown, extracted.get("html", ""), strip)
    structured = None
    if request.instructions or request.response_format:
        if extractor is not None:
            structured = await extractor.extract(markdown, request.response_format, request.instructions)
        else:
            structured = await asyncio.to_thread(
                extract_structured, extracted.get("html", ""), request.response_format, request.instructions
            )
    return DataSpace(markdown=markdown, structured=structured)


def _to_markdown(html: str, strip: list[str]) -> str:
    text = markdownify(html, heading_style="ATX", bullets="-", strip=strip or None, escape_underscores=False)
    lines = [line.rstrip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _images(extracted: dict[str, Any]) -> list[ImageData]:
    images: list[ImageData] = []
    seen: set[str] = set()
    if extracted.get("favicon"):
        images.append(ImageData(url=extracted["favicon"], category="favicon"))
        seen.add(extracted["favicon"])
    for img in extracted.get("images", []):
        url = img.get("url") or ""
        if not url or url in seen:
            continue
        seen.add(url)
        w, h = img.get("w") or 0, img.get("h") or 0
        if url.lower().split("?")[0].endswith(".svg"):
            category = "svg_icon" if w and h and max(w, h) <= 32 else "svg_content"
        elif w and h and max(w, h) <= 32:
            category = "icon"
        elif w and h and min(w, h) <= 2:
            category = "decorative"
        else:
            category = "content_image"
        images.append(ImageData(url=url, category=category, description=img.get("alt") or None))
    return images
