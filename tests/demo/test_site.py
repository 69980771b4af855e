"""The demo shop serves every page the demo, examples and agent tests rely on, and its scripts work."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from lanterna.browser.chromium import find_chromium
from lanterna.config import Settings
from lanterna.demo.site import CONTACT_EMAIL, CONTACT_PHONE, PRODUCTS, DemoSite

NAV_LINKS = ["Home", "Products", "Cart", "About", "Contact", "Login"]


def test_every_page_has_the_main_navigation_and_search_box(demo_site: DemoSite) -> None:
    pages = [
        "index.html",
        "products.html",
        "cart.html",
        "checkout.html",
        "search.html",
        "login.html",
        "about.html",
        "contact.html",
        *(f"products/{slug}.html" for slug in PRODUCTS),
    ]
    with httpx.Client(base_url=demo_site.url) as http:
        for path in pages:
            response = http.get(f"/{path}")
            assert response.status_code == 200, path
            html = response.text
            assert '<nav aria-label="Main">' in html, path
            for label in NAV_LINKS:
                assert f">{label}</a>" in html, (path, label)
            assert 'name="q"' in html and 'role="search"' in html, path
            assert "<h1>" in html, path
            assert "http://" not in html and "https://" not in html, f"{path} loads an external resource"


def test_root_serves_the_home_page(demo_site: DemoSite) -> None:
    response = httpx.get(demo_site.url + "/")
    assert response.status_code == 200
    assert "<title>Lantern Goods</title>" in response.text


def test_contact_page_carries_email_and_phone_but_the_home_page_does_not(demo_site: DemoSite) -> None:
    contact = httpx.get(demo_site.page("contact.html")).text
    assert CONTACT_EMAIL in contact
    assert CONTACT_PHONE in contact
    # The demo task "find the contact email" should take the agent from the home page to Contact.
    home = httpx.get(demo_site.url).text
    assert CONTACT_EMAIL not in home
    assert 'href="contact.html"' in home


def test_product_pages_have_add_to_cart_and_checkout(demo_site: DemoSite) -> None:
    for slug, name in PRODUCTS.items():
        html = httpx.get(demo_site.page(f"products/{slug}.html")).text
        assert f"<h1>{name}</h1>" in html
        assert f'<button type="button" id="add-to-cart" data-slug="{slug}">Add to cart</button>' in html
        assert 'id="checkout" href="../checkout.html"' in html


def test_products_page_has_a_data_table_of_every_product(demo_site: DemoSite) -> None:
    html = httpx.get(demo_site.page("products.html")).text
    assert '<table id="product-table">' in html
    for name in PRODUCTS.values():
        assert f">{name}</a></td>" in html


def test_unknown_paths_and_directories_get_a_404_page(demo_site: DemoSite) -> None:
    for path in ("missing.html", "products/", "assets/"):
        response = httpx.get(demo_site.page(path))
        assert response.status_code == 404, path
        assert "Page not found" in response.text


async def test_site_runs_as_an_async_context_manager_and_frees_its_port() -> None:
    async with DemoSite() as site:
        url = site.url
        async with httpx.AsyncClient() as http:
            assert (await http.get(site.page("about.html"))).status_code == 200
    assert not site.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/about.html", timeout=2)


# --- in a real browser ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    settings = Settings()
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=find_chromium(settings), args=settings.chromium_arg_list
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()  # fresh localStorage: an empty cart
    context.set_default_timeout(5000)
    yield await context.new_page()
    await context.close()


async def test_add_to_cart_shows_the_item_on_the_cart_page(page: Page, demo_site: DemoSite) -> None:
    await page.goto(demo_site.page("products/trail-headlamp.html"))
    await page.get_by_label("Quantity").fill("2")
    await page.click("#add-to-cart")
    await expect(page.get_by_role("status")).to_have_text("Added 2 × Trail Headlamp 300 to your cart.")
    await expect(page.locator("#cart-count")).to_have_text("2")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Cart").click()
    await expect(page).to_have_url(demo_site.page("cart.html"))
    row = page.locator("#cart-items tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Trail Headlamp 300")
    await expect(row.locator(".qty")).to_have_text("2")
    await expect(page.locator("#cart-total")).to_have_text("Total: $59.00")

    await page.click("#checkout")
    await expect(page).to_have_url(demo_site.page("checkout.html"))
    await expect(page.locator("#summary-items")).to_contain_text("2 × Trail Headlamp 300")


async def test_checkout_shows_validation_errors_then_confirms(page: Page, demo_site: DemoSite) -> None:
    await page.goto(demo_site.page("products/classic-lantern.html"))
    await page.click("#add-to-cart")
    await page.click("#checkout")
    await expect(page.get_by_role("heading", name="Checkout", level=1)).to_be_visible()

    await page.get_by_role("button", name="Place order").click()
    await expect(page.get_by_role("alert")).to_have_text("Please fix 3 errors before placing your order.")
    await expect(page.locator("#name-error")).to_have_text("Please enter your full name.")
    await expect(page.locator("#email-error")).to_have_text("Please enter your email address.")
    await expect(page.locator("#address-error")).to_have_text("Please enter your shipping address.")
    await expect(page.get_by_label("Full name")).to_have_attribute("aria-invalid", "true")

    await page.get_by_label("Full name").fill("Ada Lovelace")
    await page.get_by_label("Email").fill("ada@example")
    await page.get_by_label("Shipping address").fill("12 St James's Square, London")
    await page.get_by_role("button", name="Place order").click()
    await expect(page.locator("#email-error")).to_have_text(
        "Please enter a valid email address, like name@example.com."
    )
    await expect(page.locator("#name-error")).to_be_hidden()

    await page.get_by_label("Email").fill("ada@example.com")
    await page.get_by_role("button", name="Place order").click()
    confirmation = page.locator("#confirmation")
    await expect(confirmation).to_be_visible()
    await expect(confirmation).to_contain_text("Thank you, Ada Lovelace!")
    await expect(page.locator("#order-total")).to_have_text("$48.00")
    await expect(page.locator("#cart-count")).to_have_text("0")


async def test_search_box_filters_products(page: Page, demo_site: DemoSite) -> None:
    await page.goto(demo_site.url)
    await page.get_by_role("searchbox", name="Search products").fill("solar")
    await page.get_by_role("searchbox", name="Search products").press("Enter")
    await expect(page.locator("#search-summary")).to_have_text("1 result for “solar”")
    await expect(page.locator("#search-results")).to_contain_text("Solar String Lights")

    await page.goto(demo_site.page("search.html?q=telescope"))
    await expect(page.locator("#search-summary")).to_have_text("No products match “telescope”.")


async def test_login_rejects_a_wrong_password_and_accepts_the_demo_account(
    page: Page, demo_site: DemoSite
) -> None:
    await page.goto(demo_site.page("login.html"))
    await expect(page.locator("#demo-credentials")).to_contain_text("demo@lanterna-shop.test")
    await page.get_by_label("Email").fill("demo@lanterna-shop.test")
    await page.get_by_label("Password").fill("wrong")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Incorrect email or password. Please try again.")

    await page.get_by_label("Password").fill("lantern123")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#signed-in")).to_contain_text("Welcome back, Demo Shopper!")
