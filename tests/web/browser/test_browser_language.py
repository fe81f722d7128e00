"""The language switch in a real browser: the brokers page in French, and the choice kept with
the user's account, so another browser shows it too after the login."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.web.browser.conftest import log_in, screenshot
from tests.web.browser.test_browser_brokers import add_paper
from tests.web.support import running_server

WAIT = 30_000


def test_switch_to_french_on_the_brokers_page_and_keep_it_in_another_browser(
    page: Any, browser: Any, web_home: Path
) -> None:
    add_paper(web_home, name="paper one")
    with running_server(web_home) as server:
        log_in(page, server)
        assert page.locator("h1").first.inner_text() == "Brokers"

        page.click("header button:has-text('Français')")
        page.wait_for_selector("html[lang=fr]", timeout=WAIT)
        assert page.url.rstrip("/") == f"{server}/brokers"  # back on the same page
        assert page.locator("h1").first.inner_text() == "Courtiers"
        row = page.locator("tr", has=page.locator("td.name", has_text="paper one"))
        row.locator("button:has-text('Synchroniser maintenant')").click()
        page.wait_for_selector("p.flash", timeout=WAIT)
        assert page.locator("h1").first.inner_text() == "Courtiers"
        assert page.locator("header button:has-text('Se déconnecter')").is_visible()
        screenshot(page, "brokers-fr")

        # Another browser (no cookie, an English Chromium): French once alice is logged in.
        other = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-US")
        try:
            elsewhere = other.new_page()
            log_in(elsewhere, server)
            elsewhere.wait_for_selector("html[lang=fr]", timeout=WAIT)
            assert elsewhere.locator("h1").first.inner_text() == "Courtiers"
        finally:
            other.close()
    assert not page.dialogs  # type: ignore[attr-defined]
