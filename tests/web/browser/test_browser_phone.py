"""The pages on a phone: nothing wider than the screen, the navigation and the controls there."""

from __future__ import annotations

from typing import Any

from tests.web.browser.conftest import log_in, screenshot

PAGES = (
    "/brokers/",
    "/brokers/config/",
    "/positions/",
    "/trades/",
    "/equity/",
    "/orders/",
    "/strategies/",
    "/risk/",
    "/notifications/",
)


def test_every_page_fits_a_phone_screen(browser: Any, server: str) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    page = context.new_page()
    try:
        log_in(page, server)
        for path in PAGES:
            page.goto(f"{server}{path}")
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 390, f"{path} is {wide} px wide on a 390 px screen"
            assert page.locator("header nav a").first.is_visible(), path
        page.goto(f"{server}/brokers/")
        assert page.locator("#automation button").first.is_visible()
        screenshot(page, "brokers-phone")
    finally:
        context.close()
