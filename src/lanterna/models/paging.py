"""One page of a listing (sessions, agents), newest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")
U = TypeVar("U")


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with each item converted (e.g. into its wire shape)."""
        page: Page[Any] = Page(
            items=[convert(item) for item in self.items],
            page=self.page,
            page_size=self.page_size,
            total=self.total,
        )
        return page
