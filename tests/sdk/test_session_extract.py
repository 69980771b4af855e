"""Typed structured scrape through lanterna's SDK: ``scrape(response_format=Model)`` → a ``Model``."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from lanterna import Client
from lanterna.models.scrape import StructuredData
from lanterna.sdk import ScrapeFailedError
from tests.fixtures.engine import StaticSite


class Lantern(BaseModel):
    name: str
    price: float
    phone: str


class Guaranteed(Lantern):
    warranty: str


def test_scrape_with_a_model_returns_an_instance(client: Client, static_site: StaticSite) -> None:
    with client.Session() as session:
        session.execute(type="goto", url=static_site.page("spec-sheet.html"))
        lantern = session.scrape(response_format=Lantern)
        assert lantern == Lantern(name="Storm Lantern", price=24.5, phone="+1 555 010 2030")
        with pytest.raises(ScrapeFailedError, match="could not find on the page: warranty"):
            session.scrape(response_format=Guaranteed)
        failed = session.scrape(response_format=Guaranteed, raise_on_failure=False)
        assert isinstance(failed, StructuredData) and failed.success is False
        assert "Storm Lantern" in session.scrape()
