"""Structured scrape: the offline extractor and the LLM extractor on a real page in Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from lanterna.browser import BrowserSession
from lanterna.config import Settings
from lanterna.models.actions import Scrape
from lanterna.reasoners.extraction import LlmExtractor
from lanterna.scrape.markdown import scrape_page
from tests.fixtures.engine import StaticSite
from tests.fixtures.llm import ChatStub

PRODUCT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Name"},
        "price": {"type": "number"},
        "contact_email": {"type": "string", "description": "email to write to"},
        "warranty": {"type": "string"},
    },
    "required": ["name", "price", "contact_email", "warranty"],
}


@pytest.fixture
async def sheet(tab: BrowserSession, static_site: StaticSite) -> BrowserSession:
    await tab.page.goto(static_site.page("spec-sheet.html"))
    return tab


async def test_offline_extractor_fills_what_the_page_says_and_names_the_rest(sheet: BrowserSession) -> None:
    data = await scrape_page(sheet.page, Scrape(response_format=PRODUCT))
    structured = data.structured
    assert structured is not None
    assert structured.success is False and structured.data is None  # a required field stays empty
    assert structured.error and "could not find on the page: warranty" in structured.error
    assert "found: name, price, contact_email" in structured.error

    optional = {**PRODUCT, "required": ["name", "price"]}
    filled = (await scrape_page(sheet.page, Scrape(response_format=optional))).structured
    assert filled is not None and filled.success
    assert filled.data == {"name": "Storm Lantern", "price": 24.5, "contact_email": "sales@lantern.example"}


async def test_offline_extractor_reads_tables_lists_and_definitions(sheet: BrowserSession) -> None:
    schema = {
        "type": "object",
        "$defs": {
            "Stockist": {
                "type": "object",
                "properties": {
                    "shop": {"type": "string"},
                    "city": {"type": "string"},
                    "stock": {"type": "integer"},
                },
            }
        },
        "properties": {
            "weight": {"type": "string"},
            "colour": {"type": "string"},
            "phone": {"type": "string"},
            "features": {"type": "array", "items": {"type": "string"}},
            "stockists": {"type": "array", "items": {"$ref": "#/$defs/Stockist"}},
        },
        "required": ["weight", "stockists"],
    }
    structured = (await scrape_page(sheet.page, Scrape(response_format=schema))).structured
    assert structured is not None and structured.success, structured
    assert structured.data == {
        "weight": "1.2 kg",
        "colour": "Brass",
        "phone": "+1 555 010 2030",
        "features": ["Storm-proof glass", "Brass handle"],
        "stockists": [
            {"shop": "Harbour Lights", "city": "Bristol", "stock": 4},
            {"shop": "North Star", "city": "Leeds", "stock": 11},
        ],
    }


NESTED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "seller": {
            "type": "object",
            "properties": {"email": {"type": "string"}, "phone": {"type": "string"}},
            "required": ["email"],
        },
        "stockists": {
            "type": "array",
            "items": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    },
    "required": ["name", "seller", "stockists"],
}
ANSWER = {
    "name": "Storm Lantern",
    "seller": {"email": "sales@lantern.example", "phone": "+1 555 010 2030"},
    "stockists": [{"city": "Bristol"}, {"city": "Leeds"}],
}


def _extractor(llm_stub: ChatStub) -> LlmExtractor:
    return LlmExtractor("openai/stub-model", Settings(llm_base_url=llm_stub.base_url))


async def test_llm_extractor_sends_page_and_schema_and_validates_a_nested_reply(
    sheet: BrowserSession, llm_stub: ChatStub
) -> None:
    llm_stub.reply(ANSWER)
    data = await scrape_page(
        sheet.page, Scrape(response_format=NESTED, instructions="the seller"), _extractor(llm_stub)
    )
    assert data.structured is not None and data.structured.success
    assert data.structured.data == ANSWER
    prompt = llm_stub.prompt_text(0)
    assert "Harbour Lights" in prompt and '"seller"' in prompt and "the seller" in prompt


async def test_llm_extractor_repairs_malformed_json(sheet: BrowserSession, llm_stub: ChatStub) -> None:
    llm_stub.reply(
        "```json\n{'name': 'Storm Lantern', 'seller': {'email': 'sales@lantern.example',}, "
        "'stockists': [{'city': 'Bristol'}, {'city': 'Leeds'}\n```"
    )
    data = await scrape_page(sheet.page, Scrape(response_format=NESTED), _extractor(llm_stub))
    assert data.structured is not None and data.structured.success, data.structured
    assert data.structured.data == {
        "name": "Storm Lantern",
        "seller": {"email": "sales@lantern.example"},
        "stockists": [{"city": "Bristol"}, {"city": "Leeds"}],
    }
    assert len(llm_stub.requests) == 1


async def test_llm_extractor_reasks_once_with_the_schema_errors(
    sheet: BrowserSession, llm_stub: ChatStub
) -> None:
    llm_stub.reply({"name": "Storm Lantern"})
    llm_stub.reply(ANSWER)
    data = await scrape_page(sheet.page, Scrape(response_format=NESTED), _extractor(llm_stub))
    assert data.structured is not None and data.structured.data == ANSWER
    assert "'seller' is a required property" in llm_stub.prompt_text(1)

    llm_stub.reply({"name": 3})
    llm_stub.reply({"name": 4})
    failed = (await scrape_page(sheet.page, Scrape(response_format=NESTED), _extractor(llm_stub))).structured
    assert failed is not None and failed.success is False and failed.error and "did not fit" in failed.error
