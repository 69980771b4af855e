"""Query parameters every list endpoint takes: which page, and how many items on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from lanterna.wire import MAX_PAGE, MAX_PAGE_SIZE

PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
