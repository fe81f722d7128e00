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
    for path in (
        "/brokers/",
        "/brokers/config/",
        "/positions/",
        "/trades/",
        "/equity/",
        "/orders/",
        "/strategies/",
        "/risk/",
        "/notifications/",
        "/operator/",
    ):
        page.goto(f"{server}{path}")
        assert page.url.startswith(f"{server}/login"), path  # every page closed again
    answer = page.goto(f"{server}/automation/status/")  # the JSON: refused, not redirected
    assert answer is not None
    assert answer.status == 401
    assert not page.dialogs  # type: ignore[attr-defined]
