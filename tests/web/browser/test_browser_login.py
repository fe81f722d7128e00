"""Logging in and out in a real browser."""

from __future__ import annotations

from typing import Any

from tests.web.browser.conftest import log_in, screenshot


def test_log_in_see_the_dashboard_log_out_and_find_it_closed(page: Any, server: str) -> None:
    page.goto(f"{server}/brokers/")
    page.wait_for_url(f"{server}/login?next=*")
    screenshot(page, "login")

    log_in(page, server)
    assert page.locator("h1").first.inner_text() == "Brokers"
    assert page.locator("header .who").inner_text() == "alice"

    page.click("header button:has-text('Log out')")
    page.wait_for_url(f"{server}/login")
    page.goto(f"{server}/brokers/")
    assert page.url.startswith(f"{server}/login")
    assert not page.dialogs  # type: ignore[attr-defined]
