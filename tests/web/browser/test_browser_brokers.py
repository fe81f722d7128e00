"""The brokers page and orders in a real browser: add a paper connection, sync it, place an
order through the confirmation step, a risk rule named, a hostile connection name shown as
text, and Saxo's login through the fake authorization server and the callback."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.fakes.saxo_exchange import FakeSaxo
from tests.web.browser.conftest import log_in, run_async, screenshot
from tests.web.support import running_server

from tradecore.domain import BrokerConnection, OAuthTokens
from tradecore_adapters.bootstrap import open_application

WAIT = 30_000
XSS = "<script>alert(1)</script>"


def _app(home: Path) -> Any:
    return open_application(environ={"TRADECORE_HOME": str(home)})


def add_paper(home: Path, user: str = "alice", name: str = "p1") -> BrokerConnection:
    """A paper connection of ``user``, stored before (or while) the server runs."""

    async def work() -> BrokerConnection:
        async with await _app(home) as app:
            owner = await app.users.find(user)
            return await app.connections.add(owner.id, broker="paper", name=name)

    result: BrokerConnection = run_async(work)
    return result


def test_add_a_paper_connection_sync_it_and_see_its_positions(page: Any, server: str) -> None:
    log_in(page, server)
    page.click("a:has-text('Add a connection')")
    page.select_option("select[name=broker]", "paper")
    page.click("button:has-text('Choose')")
    page.fill("input[name=name]", "paper one")
    screenshot(page, "broker-config")
    page.click("button:has-text('Add the connection')")
    page.wait_for_url(f"{server}/brokers/", timeout=WAIT)
    row = page.locator("tr", has=page.locator("td.name", has_text="paper one"))
    assert row.locator("td.positions").inner_text() == "0"

    row.locator("button:has-text('Sync now')").click()
    page.wait_for_selector("p.flash:has-text('paper one: synced')", timeout=WAIT)
    row = page.locator("tr", has=page.locator("td.name", has_text="paper one"))
    assert int(row.locator("td.positions").inner_text()) > 0
    screenshot(page, "brokers")
    assert not page.dialogs  # type: ignore[attr-defined]


def test_place_an_order_through_the_confirmation_step_and_see_it_listed(
    page: Any, web_home: Path
) -> None:
    add_paper(web_home)
    with running_server(web_home) as server:
        log_in(page, server)
        page.click("tr:has(td.name:text-is('p1')) a:has-text('Order')")
        page.fill("input[name=symbol]", "BTC-USD")
        page.fill("input[name=quantity]", "0.01")
        page.click("button:has-text('Review the order')")
        page.wait_for_selector("h1:has-text('Confirm the order')", timeout=WAIT)
        assert page.locator("dd.what").inner_text() == "buy 0.01 BTC-USD at market"
        assert page.locator("dd.risk").inner_text() == "passes"
        screenshot(page, "order-confirm")

        page.click("button:has-text('Place the order')")
        page.wait_for_url(f"{server}/orders/", timeout=WAIT)
        first = page.locator("#orders tbody tr").first
        assert first.locator("td.what").inner_text() == "buy 0.01 BTC-USD"
        assert first.locator("td.status").inner_text().startswith("filled")


def test_an_order_over_a_risk_limit_shows_the_rule_by_name(page: Any, web_home: Path) -> None:
    add_paper(web_home)

    async def limit() -> None:
        async with await _app(web_home) as app:
            alice = await app.users.find("alice")
            await app.risk.set_limits(alice.id, max_order_notional=Decimal(100))

    run_async(limit)
    with running_server(web_home) as server:
        log_in(page, server)
        page.click("tr:has(td.name:text-is('p1')) a:has-text('Order')")
        page.fill("input[name=symbol]", "BTC-USD")
        page.fill("input[name=quantity]", "1")
        page.click("button:has-text('Review the order')")
        risk = page.wait_for_selector("dd.risk", timeout=WAIT)
        assert "Blocked by the risk rule max_order_notional" in risk.inner_text()
        page.click("button:has-text('Place the order')")
        blocked = page.wait_for_selector("p.blocked", timeout=WAIT)
        assert blocked.inner_text() == "Blocked by the risk rule max_order_notional"


def test_a_hostile_connection_name_is_shown_as_text(page: Any, web_home: Path) -> None:
    add_paper(web_home, name=XSS)
    with running_server(web_home) as server:
        log_in(page, server)
        assert page.locator("td.name").first.inner_text() == XSS
        page.click("a:has-text('Configure')")
        page.wait_for_selector("h1", timeout=WAIT)
        assert XSS in page.locator("h1").inner_text()
        page.goto(f"{server}/brokers/")
        assert not page.dialogs  # type: ignore[attr-defined]


def _saxo_tokens(home: Path) -> OAuthTokens | None:
    async def work() -> OAuthTokens | None:
        async with await _app(home) as app:
            alice = await app.users.find("alice")
            return (await app.connections.get(alice.id, "s1")).tokens

    result: OAuthTokens | None = run_async(work)
    return result


def test_saxo_log_in_goes_to_the_authorize_page_and_back_and_a_wrong_state_changes_nothing(
    page: Any, web_home: Path
) -> None:
    # A PKCE app registers its address without a port: any port of the host goes.
    fake = FakeSaxo(redirect_uris=("http://127.0.0.1/brokers/saxo/callback/",))
    with fake.serve() as saxo, running_server(web_home) as server:
        callback = f"{server}/brokers/saxo/callback/"

        async def add() -> None:
            async with await _app(web_home) as app:
                alice = await app.users.find("alice")
                await app.connections.add(
                    alice.id, broker="saxo", name="s1",
                    settings={"app_key": fake.app_key, "auth_base_url": saxo,
                              "api_base_url": f"{saxo}/sim/openapi", "redirect_uri": callback},
                )  # fmt: skip

        run_async(add)
        log_in(page, server)
        row = page.locator("tr", has=page.locator("td.name", has_text="s1"))
        assert "never logged in" in row.locator("td.problem").inner_text()

        # A login is begun (the browser held before Saxo's page), then a forged callback comes
        # back instead of Saxo's: nothing changes.
        begin = re.compile(re.escape(server) + "/brokers/[0-9a-f]+/login/")
        begun: list[str] = []

        def hold(route: Any) -> None:
            answer = route.fetch(max_redirects=0)
            begun.append(answer.headers["location"])
            route.fulfill(status=200, body="held")

        page.route(begin, hold)
        row.locator("button:has-text('Log in')").click()
        page.wait_for_selector("text=held", timeout=WAIT)
        assert begun[0].startswith(f"{saxo}/authorize?")
        page.goto(f"{callback}?code=forged&state=not-the-state")
        failed = page.wait_for_selector("p.flash.error", timeout=WAIT)
        assert "login failed" in failed.inner_text()
        assert _saxo_tokens(web_home) is None

        # Log in goes to the (fake) authorize page, which sends the browser back.
        page.unroute(begin)
        seen: list[str] = []
        page.on("request", lambda request: seen.append(request.url))
        row = page.locator("tr", has=page.locator("td.name", has_text="s1"))
        row.locator("button:has-text('Log in')").click()
        page.wait_for_selector("p.flash:has-text('s1: logged in')", timeout=WAIT)
        assert any(url.startswith(f"{saxo}/authorize?") for url in seen)
        assert any(url.startswith(f"{callback}?") for url in seen)
        assert _saxo_tokens(web_home) is not None
        row = page.locator("tr", has=page.locator("td.name", has_text="s1"))
        assert "never logged in" not in row.locator("td.problem").inner_text()
        assert not page.dialogs  # type: ignore[attr-defined]
