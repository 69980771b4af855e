"""Structured scrape, observe options and evaluate_js through the official notte-sdk 1.8.6."""

from __future__ import annotations

from tests.fixtures.engine import StaticSite
from tests.fixtures.sdk import NotteRunner


def test_notte_structured_scrape_with_the_offline_extractor(
    notte: NotteRunner, static_site: StaticSite
) -> None:
    out = notte.run(
        f"""
        from pydantic import BaseModel, Field
        from notte_sdk import NotteClient

        class Lantern(BaseModel):
            name: str
            price: float
            contact_email: str = Field(description="email to write to")

        class WithWarranty(Lantern):
            warranty: str

        client = NotteClient()
        url = {static_site.page("spec-sheet.html")!r}
        out = {{}}
        with client.Session() as session:
            session.execute(type="goto", url=url)
            got = session.scrape(response_format=Lantern, instructions="the lantern's name, price and email")
            out["typed"] = [type(got).__name__, got.model_dump()]
            partial = session.scrape(response_format=WithWarranty, raise_on_failure=False)
            out["partial"] = [partial.success, partial.error]
        direct = client.scrape(url, response_format=Lantern)
        out["direct"] = direct.model_dump()
        emit(out)
        """
    )
    lantern = {"name": "Storm Lantern", "price": 24.5, "contact_email": "sales@lantern.example"}
    assert out["typed"] == ["Lantern", lantern]
    assert out["direct"] == lantern
    success, error = out["partial"]
    assert success is False and "warranty" in error


def test_notte_observe_options_and_evaluate_js(notte: NotteRunner, static_site: StaticSite) -> None:
    out = notte.run(
        f"""
        from notte_sdk import NotteClient

        client = NotteClient()
        out = {{}}
        with client.Session(screenshot_type="full") as session:
            session.execute(type="goto", url={static_site.page("form.html")!r})
            everything = session.observe()
            out["all"] = len(everything.space.interaction_actions)
            out["shot"] = len(everything.screenshot.bytes())
            ranked = session.observe(instructions="create my account", max_nb_actions=2)
            out["ranked"] = [f"{{a.id}} {{a.description}} {{a.text_label}}" for a in ranked]
            result = session.execute(type="evaluate_js", code="[1, 'two', 3.5]")
            out["js"] = [result.success, result.data.structured.get() if result.data else None]
        emit(out)
        """
    )
    assert out["all"] > 2
    assert out["shot"] > 1000, "a real JPEG, not the empty placeholder"
    assert len(out["ranked"]) == 2
    assert "Create account" in out["ranked"][0], out["ranked"]
    assert out["js"][0] is True and out["js"][1] == {"result": [1, "two", 3.5]}
