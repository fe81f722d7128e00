"""Run one strategy inside a cycle: build its context, evaluate it, and turn its intents into
orders through the order protocol (or, in dry-run, only record them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from attrs import frozen

from tradecore.domain import (
    Account,
    BrokerConnection,
    Instrument,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Quote,
    StrategyConfig,
    TaskKind,
    TaskResult,
    TaskStatus,
    client_order_id_for,
)
from tradecore.errors import InstrumentNotFound, PluginError
from tradecore.ports import BrokerPort, Clock, RepositoryPort, StrategyContext, StrategyFactory
from tradecore.services._steps import StepTimer, describe_error
from tradecore.services.orders import submit_order

__all__ = ["RECENT_TRADES", "StrategyTarget", "run_strategy"]

RECENT_TRADES = 500
"""How many of the connection's latest fills a strategy sees."""


@frozen(kw_only=True)
class StrategyTarget:
    """The connection a strategy trades, as the cycle left it.

    :param blocked_reason: why no strategy may trade it now (sync failed, orders unresolved…).
    """

    connection: BrokerConnection
    broker: BrokerPort | None
    accounts: tuple[Account, ...] = ()
    blocked_reason: str | None = None


def describe_intent(intent: OrderIntent) -> str:
    """``buy 0.5 BTC-USD at market`` / ``sell 2 AAPL limit 190.5``, plus the reason."""
    price = "at market" if intent.order_type is OrderType.MARKET else f"limit {intent.limit_price}"
    text = f"{intent.side.value} {intent.quantity} {intent.instrument.symbol} {price}"
    return f"{text} ({intent.reason})" if intent.reason else text


async def run_strategy(
    *,
    config: StrategyConfig,
    target: StrategyTarget | None,
    factories: Mapping[str, StrategyFactory],
    repository: RepositoryPort,
    clock: Clock,
    run_id: str,
) -> TaskResult:
    """Evaluate ``config`` against its connection and act on its intents; never raises."""
    secrets = target.connection.secret_values() if target is not None else ()
    timer = StepTimer(clock, TaskKind.STRATEGY, config.name, config.id, secrets=secrets)
    if target is None or target.broker is None:
        return timer.result(TaskStatus.SKIPPED, error="its connection is inactive or missing")
    if target.blocked_reason is not None:
        return timer.result(TaskStatus.SKIPPED, error=target.blocked_reason)
    broker = target.broker
    try:
        factory = factories.get(config.strategy_type)
        if factory is None:
            known = ", ".join(sorted(factories)) or "none installed"
            raise PluginError(f"strategy type {config.strategy_type!r} is not installed ({known})")
        strategy = factory.build(config)
        context = await _context(config, target, broker, strategy.instruments(), repository, clock)
        intents = list((await strategy.evaluate(context)).intents)
    except Exception as exc:
        return timer.result(TaskStatus.FAILURE, error=describe_error(exc))
    if config.dry_run:
        return timer.result(
            TaskStatus.SUCCESS,
            counts={"intents": len(intents), "orders_placed": 0},
            notes=[f"dry run, would {describe_intent(intent)}" for intent in intents],
        )
    try:
        return await _place(config, target, broker, intents, repository, clock, run_id, timer)
    except Exception as exc:  # the ledger refused an intent: stop this strategy, keep the cycle
        return timer.result(TaskStatus.FAILURE, error=describe_error(exc))


async def _context(
    config: StrategyConfig,
    target: StrategyTarget,
    broker: BrokerPort,
    wanted: Sequence[Instrument],
    repository: RepositoryPort,
    clock: Clock,
) -> StrategyContext:
    user_id = config.user_id
    async with repository.unit_of_work() as uow:
        positions = await uow.positions.list(user_id, connection_id=config.connection_id)
        trades = await uow.trades.list(
            user_id, connection_id=config.connection_id, limit=RECENT_TRADES
        )
    instruments = {p.instrument.symbol: p.instrument for p in positions}
    instruments.update({instrument.symbol: instrument for instrument in wanted})
    prices: dict[str, Quote] = {}
    for symbol, instrument in sorted(instruments.items()):
        try:
            prices[symbol] = await broker.get_asset_price(instrument)
        except InstrumentNotFound:
            continue  # cash balances and delisted holdings have no price
    return StrategyContext(
        config=config,
        accounts=target.accounts,
        positions=positions,
        prices=prices,
        recent_trades=trades,
        now=clock.now(),
    )


async def _place(
    config: StrategyConfig,
    target: StrategyTarget,
    broker: BrokerPort,
    intents: Sequence[OrderIntent],
    repository: RepositoryPort,
    clock: Clock,
    run_id: str,
    timer: StepTimer,
) -> TaskResult:
    counts = {"intents": len(intents), "orders_placed": 0, "rejected": 0, "unknown": 0}
    notes: list[str] = []
    problems: list[str] = []
    for index, intent in enumerate(intents):
        account_id = intent.account_id or _only_account(target.accounts)
        if account_id is None:
            problems.append(
                f"{describe_intent(intent)}: the connection has several accounts; "
                "the strategy must name one"
            )
            continue
        request = OrderRequest(
            connection_id=target.connection.id,
            account_id=account_id,
            client_order_id=client_order_id_for(f"{config.id}:{run_id}:{index}"),
            instrument=intent.instrument,
            side=intent.side,
            order_type=intent.order_type,
            quantity=intent.quantity,
            limit_price=intent.limit_price,
        )
        order = await submit_order(
            repository=repository,
            broker=broker,
            user_id=config.user_id,
            request=request,
            clock=clock,
        )
        if order.status is OrderStatus.REJECTED:
            counts["rejected"] += 1
            problems.append(f"{describe_intent(intent)} rejected: {order.reason}")
        elif order.status is OrderStatus.UNKNOWN:
            counts["unknown"] += 1
            problems.append(
                f"{describe_intent(intent)}: outcome unknown ({order.reason}); it will be looked "
                f"up as {order.client_order_id}, never resent"
            )
        else:
            counts["orders_placed"] += 1
            notes.append(f"{describe_intent(intent)}: {order.status.value}")
    if problems:
        error = "; ".join(problems)
        return timer.result(TaskStatus.FAILURE, counts=counts, error=error, notes=notes)
    return timer.result(TaskStatus.SUCCESS, counts=counts, notes=notes)


def _only_account(accounts: Sequence[Account]) -> str | None:
    return accounts[0].account_id if len(accounts) == 1 else None
