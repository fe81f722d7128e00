"""The built-in strategy types arrive like a third party's: through the ``strategies`` entry point
of the installed ``tradecore`` distribution and the real plugin discovery."""

from __future__ import annotations

import importlib.metadata
from datetime import UTC, datetime
from decimal import Decimal

from tradecore.domain import Instrument, Quote, Side, StrategyConfig
from tradecore.plugins import ENTRYPOINT_GROUP, PluginRegistry, get_plugin_manager
from tradecore.ports import Strategy, StrategyContext

NOW = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)


def test_the_entry_point_is_declared_by_the_tradecore_distribution() -> None:
    (entry_point,) = [
        ep
        for ep in importlib.metadata.distribution("tradecore").entry_points
        if ep.group == ENTRYPOINT_GROUP and ep.name == "strategies"
    ]

    assert entry_point.value == "tradecore_adapters.strategies.plugin"


def test_discovery_registers_dca_and_rebalance_from_the_strategies_plugin() -> None:
    registry = PluginRegistry.from_manager(get_plugin_manager())

    assert {"dca", "rebalance"} <= set(registry.strategies)
    (info,) = [info for info in registry.plugins if "dca" in info.strategies]
    assert info.name == "strategies"
    assert info.distribution == "tradecore"
    assert info.strategies == ("dca", "rebalance")


def test_an_allow_list_naming_only_the_strategies_plugin_loads_just_them() -> None:
    registry = PluginRegistry.from_manager(get_plugin_manager(allowed=["strategies"]))

    assert list(registry.strategies) == ["dca", "rebalance"]
    assert not registry.brokers


def test_blocking_the_plugin_removes_both_strategy_types() -> None:
    registry = PluginRegistry.from_manager(get_plugin_manager(blocked=["strategies"]))

    assert "dca" not in registry.strategies
    assert "rebalance" not in registry.strategies


async def test_a_discovered_factory_builds_a_strategy_that_decides() -> None:
    factory = PluginRegistry.from_manager(get_plugin_manager()).strategy("dca")
    config = StrategyConfig(
        user_id="u1",
        strategy_type="dca",
        name="btc-weekly",
        connection_id="c1",
        parameters={"instrument": "BTC-USD", "amount": "100", "every": "1w"},
        created_at=NOW,
    )

    strategy = factory.build(config)
    price = Quote(instrument=Instrument(symbol="BTC-USD"), last=Decimal("50000"), as_of=NOW)
    decision = await strategy.evaluate(
        StrategyContext(
            config=config,
            accounts=(),
            positions=(),
            prices={"BTC-USD": price},
            recent_trades=(),
            now=NOW,
        )
    )

    assert isinstance(strategy, Strategy)
    ((side, quantity),) = [(i.side, i.quantity) for i in decision.intents]
    assert (side, quantity) == (Side.BUY, Decimal("0.002"))
