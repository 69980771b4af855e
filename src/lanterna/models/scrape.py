"""What a scrape returns: the page as markdown, its images, and structured data."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class ImageData(BaseModel):
    url: str
    category: Literal["favicon", "icon", "content_image", "decorative", "svg_icon", "svg_content"] = (
        "content_image"
    )
    description: str | None = None


class StructuredData(BaseModel):
    success: bool
    error: str | None = None
    data: dict[str, Any] | list[Any] | None = None


class DataSpace(BaseModel):
    """What a scrape (or another data-returning action) produced."""

    markdown: str = ""
    images: list[ImageData] | None = None
    structured: StructuredData | None = None
