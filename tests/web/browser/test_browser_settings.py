"""Positions, equity, strategies, risk and notification targets in a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.telegram_server import FakeTelegram
from tests.web.browser.conftest import log_in, make_home, run_async, screenshot
from tests.web.support import running_server

from tradecore.domain import EquityPoint
from tradecore.testing.builders import make_connection, make_position
from tradecore_adapters.bootstrap import open_application

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WAIT = 30_000
HISTORY = {
    "paper-main": ["40250.10", "41010.75", "39880.00", "42600.25", "42001.00"],
    "paper-fx": ["20100.00", "20480.40", "21000.50"],
}


def _seed(home: Path) -> None:
    async def seed() -> None:
        async with await open_application(environ={"TRADECORE_HOME": str(home)}) as app:
            alice = await app.users.find("alice")
            for name, symbols in (
                ("paper-main", ("BTC-USD", "ETH-USD")),
                ("paper-fx", ("EURUSD",)),
            ):
                owned = make_connection(user_id=alice.id, name=name)
                async with app.repository.unit_of_work() as uow:
                    await uow.connections.add(owned)
                    await uow.positions.sync_snapshot(
                        alice.id,
                        owned.id,
                        "spot",
                        [
                            make_position(
                                connection_id=owned.id,
                                symbol=symbol,
                                quantity=Decimal("0.5"),
                                average_price=Decimal("40000"),
                                currency="USD",
                                market_value=Decimal("21000.50"),
                                as_of=T0,
                            )
                            for symbol in symbols
                        ],
                        as_of=T0,
                    )
                    await uow.equity.add(
                        alice.id,
                        [
                            EquityPoint(
                                user_id=alice.id,
                                connection_id=owned.id,
                                at=T0 + timedelta(hours=6 * index),
                                currency="USD",
                                value=Decimal(value),
                                priced=len(symbols),
                            )
                            for index, value in enumerate(HISTORY[name])
                        ],
                    )
                    await uow.commit()

    run_async(seed)


@pytest.fixture
def telegram_url() -> Iterator[str]:
    fake = FakeTelegram(tokens={TOKEN}, chats={"42": "private"})
    with fake.serve() as url:
        yield url


@pytest.fixture
def settings_server(tmp_path: Path, telegram_url: str) -> Iterator[str]:
    home = make_home(tmp_path / "home")
    _seed(home)
    with running_server(home, env={"TELEGRAM_API_URL": telegram_url}) as base:
        yield base


def test_positions_and_equity_show_the_users_holdings(page: Any, settings_server: str) -> None:
    base = settings_server
    log_in(page, base)

    page.click("header nav a:has-text('Positions')")
    page.wait_for_selector("#positions td.symbol", timeout=WAIT)
    assert sorted(page.locator("#positions td.symbol").all_inner_texts()) == [
        "BTC-USD",
        "ETH-USD",
        "EURUSD",
    ]
    screenshot(page, "positions")

    page.click("a:has-text('Equity chart')")
    page.wait_for_selector("svg.chart polyline", state="attached", timeout=WAIT)
    assert page.locator("svg.chart polyline").count() == 2
    assert page.locator("svg.chart text.chart-max").text_content() == "42600.25"
    assert page.locator("svg.chart text.chart-min").text_content() == "20100.00"
    screenshot(page, "equity")
    assert not page.dialogs  # type: ignore[attr-defined]


def test_add_a_strategy_go_live_set_a_limit_and_add_a_target(
    page: Any, settings_server: str
) -> None:
    base = settings_server
    log_in(page, base)

    page.goto(f"{base}/strategies/")
    page.click("a:has-text('dca')")
    page.wait_for_selector("input[name=param_instrument]", timeout=WAIT)
    page.fill("input[name=name]", "btc-daily")
    page.select_option("select[name=connection]", "paper-main")
    page.fill("input[name=param_instrument]", "BTC-USD")
    page.fill("input[name=param_amount]", "100")
    page.click("button[type=submit]:has-text('Add')")
    row = page.locator("tr[data-strategy='btc-daily']")
    row.wait_for(timeout=WAIT)
    assert row.locator(".mode").inner_text() == "dry run"
    row.locator("button:has-text('Go live')").click()
    page.wait_for_selector("tr[data-strategy='btc-daily'] .mode:has-text('live')", timeout=WAIT)
    assert page.locator("tr[data-strategy='btc-daily'] .mode").inner_text() == "live"
    screenshot(page, "strategies")

    page.click("header nav a:has-text('Risk')")
    page.fill("input[name=max_order_notional]", "abc")
    page.click("button[type=submit]:has-text('Save')")
    page.wait_for_selector(".field-error", timeout=WAIT)
    page.fill("input[name=max_order_notional]", "500")
    page.click("button[type=submit]:has-text('Save')")
    page.wait_for_url(f"{base}/risk/", timeout=WAIT)
    assert page.input_value("input[name=max_order_notional]") == "500"
    assert page.locator(".field-error").count() == 0

    page.click("header nav a:has-text('Notifications')")
    page.fill("input[name=chat_id]", "42")
    page.fill("input[name=bot_token]", TOKEN)
    page.click("button[type=submit]:has-text('Add')")
    page.wait_for_selector("tr[data-target='telegram']", timeout=WAIT)
    assert TOKEN.split(":")[1] not in page.content()
    assert page.input_value("input[name=bot_token]") == ""
    screenshot(page, "notifications")
    assert not page.dialogs  # type: ignore[attr-defined]
