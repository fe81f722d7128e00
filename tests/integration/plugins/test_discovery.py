"""Plugin discovery through real installed distributions and their entry points.

Needs the sample plugin installed as a regular distribution: ``nox -s tests`` installs
``tests/fixtures/tradecore-dummybroker``; by hand, ``pip install tests/fixtures/tradecore-dummybroker``.
Other distributions are created per test by the ``make_distribution`` fixture.
"""

from __future__ import annotations

import ast
import importlib.metadata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tradecore import (
    Account,
    BrokerConnection,
    Instrument,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TradePage,
)
from tradecore.errors import (
    ConfigurationError,
    InstrumentNotFound,
    OrderExists,
    OrderNotFound,
    OrderRejected,
    PluginError,
)
from tradecore.plugins import BrokerContext, PluginInfo, PluginRegistry, get_plugin_manager
from tradecore.ports import BrokerPort

DUMMY = "tradecore-dummybroker"
MakeDistribution = Callable[..., None]  # the fixture in conftest.py

# A plugin module registering one broker whose name is given by the test.
BROKER_PLUGIN = """
from tradecore.plugins import BrokerFactory, hookimpl

@hookimpl
def tradecore_register_brokers():
    return [BrokerFactory(name={name!r}, description="test", create=lambda c, ctx: None)]
"""


def require_dummybroker() -> None:
    """Fail (never skip) when the sample third-party distribution is missing."""
    try:
        importlib.metadata.distribution(DUMMY)
        return
    except importlib.metadata.PackageNotFoundError:
        pass
    pytest.fail(
        f"the sample plugin distribution {DUMMY} is not installed: "
        "install tests/fixtures/tradecore-dummybroker (nox -s tests does)",
        pytrace=False,
    )


def provider(registry: PluginRegistry, kind: str, name: str) -> PluginInfo:
    """The plugin that registered the broker/notifier/strategy ``name``."""
    (info,) = [info for info in registry.plugins if name in getattr(info, kind)]
    return info


def test_builtin_paper_broker_and_console_notifier_come_from_the_tradecore_distribution() -> None:
    registry = PluginRegistry.from_manager(get_plugin_manager())

    assert "paper" in registry.brokers
    assert provider(registry, "brokers", "paper").distribution == "tradecore"
    assert "console" in registry.notifiers
    assert provider(registry, "notifiers", "console").distribution == "tradecore"


def test_installed_third_party_broker_is_discovered_with_its_distribution() -> None:
    require_dummybroker()

    registry = PluginRegistry.from_manager(get_plugin_manager())

    assert "dummy" in registry.brokers
    info = provider(registry, "brokers", "dummy")
    assert (info.name, info.distribution, info.version) == ("dummy", DUMMY, "0.1.0")
    assert info.source == f"{DUMMY} 0.1.0"


def test_blocked_plugin_is_hidden_and_the_others_still_load() -> None:
    require_dummybroker()

    registry = PluginRegistry.from_manager(get_plugin_manager(blocked=["dummy"]))

    assert "dummy" not in registry.brokers
    assert "dummy" not in [info.name for info in registry.plugins]
    assert "paper" in registry.brokers


def test_blocked_plugin_is_never_imported(make_distribution: MakeDistribution) -> None:
    require_dummybroker()
    make_distribution(
        "tradecore-exploding",
        entry_points={"exploding": "exploding_plugin"},
        modules={"exploding_plugin": "raise RuntimeError('imported')"},
    )

    pm = get_plugin_manager(allowed=["dummy", "exploding"], blocked=["exploding"])

    assert pm.get_plugin("exploding") is None
    assert "dummy" in PluginRegistry.from_manager(pm).brokers


def test_allow_list_loads_only_the_named_plugins() -> None:
    require_dummybroker()

    registry = PluginRegistry.from_manager(get_plugin_manager(allowed=["dummy"]))

    assert [info.name for info in registry.plugins] == ["dummy"]
    assert list(registry.brokers) == ["dummy"]
    assert not registry.notifiers


def test_empty_allow_list_loads_no_entry_point() -> None:
    registry = PluginRegistry.from_manager(get_plugin_manager(allowed=[]))

    assert registry.plugins == ()


def test_plugin_that_fails_to_import_is_a_plugin_error_naming_it(
    make_distribution: MakeDistribution,
) -> None:
    make_distribution(
        "tradecore-broken",
        entry_points={"broken": "broken_plugin"},
        modules={"broken_plugin": "raise RuntimeError('boom at import')"},
    )

    with pytest.raises(PluginError, match="broken") as caught:
        get_plugin_manager(allowed=["broken"])

    assert "tradecore-broken" in str(caught.value)
    assert "boom at import" in str(caught.value)


def test_entry_point_to_a_missing_module_is_a_plugin_error(
    make_distribution: MakeDistribution,
) -> None:
    make_distribution("tradecore-ghost", entry_points={"ghost": "no_such_module_anywhere"})

    with pytest.raises(PluginError, match=r"'ghost'.*tradecore-ghost.*ModuleNotFoundError"):
        get_plugin_manager(allowed=["ghost"])


def test_plugin_implementing_an_unknown_hook_is_a_plugin_error(
    make_distribution: MakeDistribution,
) -> None:
    make_distribution(
        "tradecore-typo",
        entry_points={"typo": "typo_plugin"},
        modules={
            "typo_plugin": """
                from tradecore.plugins import hookimpl

                @hookimpl
                def tradecore_register_broker():  # missing "s": no such hook
                    return []
            """
        },
    )

    with pytest.raises(PluginError, match="tradecore_register_broker"):
        get_plugin_manager(allowed=["typo"])


def test_same_broker_name_from_two_distributions_names_both(
    make_distribution: MakeDistribution,
) -> None:
    require_dummybroker()
    make_distribution(
        "tradecore-dummyclone",
        entry_points={"dummyclone": "dummyclone_plugin"},
        modules={"dummyclone_plugin": BROKER_PLUGIN.format(name="dummy")},
    )
    pm = get_plugin_manager(allowed=["dummy", "dummyclone"])

    with pytest.raises(PluginError, match="broker 'dummy' is registered twice") as caught:
        PluginRegistry.from_manager(pm)

    assert DUMMY in str(caught.value)
    assert "tradecore-dummyclone" in str(caught.value)


def test_same_plugin_name_from_two_distributions_names_both(
    make_distribution: MakeDistribution,
) -> None:
    for dist, module in [("tradecore-twin-a", "twin_a"), ("tradecore-twin-b", "twin_b")]:
        make_distribution(
            dist,
            entry_points={"twin": module},
            modules={module: BROKER_PLUGIN.format(name=module)},
        )

    with pytest.raises(PluginError, match=r"'twin'.*tradecore-twin-a.*tradecore-twin-b"):
        get_plugin_manager(allowed=["twin"])


# The discovered third-party broker works end to end through the registry's factory.


class StoppedClock:
    """A clock that stays where it is put."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)


def dummy_broker(**settings: str) -> BrokerPort:
    require_dummybroker()
    factory = PluginRegistry.from_manager(get_plugin_manager(allowed=["dummy"])).broker("dummy")
    connection = BrokerConnection(
        user_id="u1", broker="dummy", name="demo", settings=settings, created_at=NOW
    )
    return factory.create(connection, BrokerContext(clock=StoppedClock(NOW)))


def market_order(account: Account, client_order_id: str, symbol: str = "DUMMY1") -> OrderRequest:
    return OrderRequest(
        connection_id=account.connection_id,
        account_id=account.account_id,
        client_order_id=client_order_id,
        instrument=Instrument(symbol=symbol),
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal(2),
    )


async def test_dummy_broker_reads_accounts_positions_and_trades() -> None:
    broker = dummy_broker()
    assert isinstance(broker, BrokerPort)
    assert broker.info.name == "dummy"

    (account,) = await broker.get_accounts()
    positions = await broker.get_positions(account)
    first = await broker.get_trades(account)
    rest = await broker.get_trades(account, cursor=first.cursor)

    assert {(p.instrument.symbol, p.quantity) for p in positions} == {
        ("DUMMY1", Decimal(2)),
        ("DUMMY2", Decimal(10)),
    }
    assert first.has_more
    assert not rest.has_more
    assert len(first.trades) + len(rest.trades) == 3
    assert await broker.get_trades(account, cursor=rest.cursor) == TradePage(
        trades=(), cursor=rest.cursor
    )


async def test_dummy_broker_fills_a_market_order_at_once() -> None:
    broker = dummy_broker(currency="EUR")
    (account,) = await broker.get_accounts()

    order = await broker.place_order(market_order(account, "tc-1"))
    with pytest.raises(OrderExists):  # a resend places nothing
        await broker.place_order(market_order(account, "tc-1"))

    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == Decimal(2)
    dummy1 = order.request.instrument
    assert await broker.get_order_status(account, "tc-1", instrument=dummy1) == order
    assert await broker.cancel_order(account, "tc-1", instrument=dummy1) == order  # unchanged
    with pytest.raises(OrderNotFound):  # like Binance: found only within its symbol
        await broker.get_order_status(account, "tc-1", instrument=Instrument(symbol="DUMMY2"))
    positions = {p.instrument.symbol: p for p in await broker.get_positions(account)}
    assert positions["DUMMY1"].quantity == Decimal(4)
    assert positions["DUMMY1"].currency == "EUR"


async def test_dummy_broker_raises_tradecore_errors_for_unknown_things() -> None:
    broker = dummy_broker()
    (account,) = await broker.get_accounts()

    with pytest.raises(InstrumentNotFound):
        await broker.get_asset_price(Instrument(symbol="NOPE"))
    with pytest.raises(OrderRejected):
        await broker.place_order(market_order(account, "tc-2", symbol="NOPE"))
    with pytest.raises(OrderNotFound):
        await broker.get_order_status(account, "tc-2", instrument=Instrument(symbol="NOPE"))
    with pytest.raises(OrderNotFound):
        await broker.cancel_order(account, "never-sent", instrument=Instrument(symbol="DUMMY1"))


def test_dummy_broker_rejects_an_unknown_setting() -> None:
    with pytest.raises(ConfigurationError, match="colour"):
        dummy_broker(colour="blue")


def test_sample_plugin_imports_only_the_public_tradecore_modules() -> None:
    # A third party may use tradecore, tradecore.plugins, tradecore.ports and tradecore.errors
    # (and tradecore.testing in its tests); never tradecore_adapters or a private module.
    package = Path(__file__).parents[2] / "fixtures" / DUMMY / "src" / "tradecore_dummybroker"
    public = {"tradecore", "tradecore.plugins", "tradecore.ports", "tradecore.errors"}
    imported = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)

    ours = {name for name in imported if name.partition(".")[0].startswith("tradecore")}
    own = {name for name in ours if name.startswith("tradecore_dummybroker.")}
    assert ours - own <= public
    assert public <= ours, "the example should show each public module in use"
