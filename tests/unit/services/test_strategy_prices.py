"""What a strategy's context is priced with: the markets it holds and wants, never a balance
(a Binance account's BTC or USDT, cash), which the broker would refuse as a symbol."""

from __future__ import annotations

from decimal import Decimal

from tradecore.domain import (
    AssetType,
    BrokerConnection,
    Instrument,
    Quote,
    RiskGate,
    RiskLimits,
    StrategyConfig,
    StrategyDecision,
)
from tradecore.ports import StrategyContext, StrategyFactory
from tradecore.services import StrategyTarget, run_strategy
from tradecore.testing import FakeBroker, FakeClock
from tradecore.testing.builders import make_position, make_user
from tradecore_adapters.memory import MemoryRepository


def test_balances_and_cash_are_not_markets() -> None:
    assert Instrument(symbol="BTC", base="BTC").is_balance
    assert Instrument(symbol="USD", asset_type=AssetType.CASH).is_balance
    assert not Instrument(symbol="BTCUSDT", base="BTC", quote="USDT").is_balance
    assert not Instrument(symbol="AAPL", asset_type=AssetType.STOCK, base="AAPL").is_balance
    assert not Instrument(symbol="BTC-USD").is_balance


async def test_only_markets_are_priced_for_a_strategy() -> None:
    clock = FakeClock()
    user = make_user()
    connection = BrokerConnection(
        id="conn-fake", user_id=user.id, broker="fake", name="fake", created_at=clock.now()
    )
    btcusdt = Instrument(symbol="BTCUSDT", base="BTC", quote="USDT")
    ethusdt = Instrument(symbol="ETHUSDT", base="ETH", quote="USDT")
    held = [
        make_position(connection_id=connection.id, account_id="main", instrument=instrument)
        for instrument in (
            Instrument(symbol="BTC", base="BTC"),
            Instrument(symbol="USDT", base="USDT"),
            Instrument(symbol="USD", asset_type=AssetType.CASH),
            btcusdt,
        )
    ]
    broker = FakeBroker(
        clock=clock,
        connection_id=connection.id,
        quotes=[
            Quote(instrument=each, last=Decimal(100), as_of=clock.now())
            for each in (btcusdt, ethusdt)
        ],
    )
    config = StrategyConfig(
        user_id=user.id,
        strategy_type="looker",
        name="looker",
        connection_id=connection.id,
        created_at=clock.now(),
    )
    repository = MemoryRepository()
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
        await uow.positions.sync_snapshot(user.id, connection.id, "main", held, as_of=clock.now())
        await uow.strategies.add(config)
        await uow.commit()
    seen: list[set[str]] = []

    class Looker:
        def instruments(self) -> tuple[Instrument, ...]:
            return (ethusdt,)

        async def evaluate(self, context: StrategyContext) -> StrategyDecision:
            seen.append(set(context.prices))
            return StrategyDecision(intents=[])

    step = await run_strategy(
        config=config,
        target=StrategyTarget(
            connection=connection, broker=broker, accounts=tuple(await broker.get_accounts())
        ),
        factories={
            "looker": StrategyFactory(name="looker", description="", create=lambda c, v: Looker())
        },
        repository=repository,
        clock=clock,
        run_id="run-1",
        gate=RiskGate(limits=RiskLimits(user_id=user.id)),
    )

    assert step.error is None
    assert seen == [{"BTCUSDT", "ETHUSDT"}]
    assert broker.calls.count("get_asset_price") == 2
