"""Run one strategy inside a cycle: build its context, evaluate it, check each intent against the
risk limits, and turn the allowed ones into orders through the order protocol (in dry-run, only
record them).

A live intent blocked by a risk rule fails the step (the run is partial and the digest's errors
name the rule); a dry run only reports what would be placed and what would be blocked.

The allowed intents, as ``PENDING_SUBMIT`` orders, and the strategy's new state are committed in
one transaction before anything is sent: a crash at any point either leaves neither (the strategy
decides again next cycle) or both (the orders are reconciled by client id, and the state says they
were decided, so the strategy does not decide them twice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from attrs import frozen

from tradecore.domain import (
    Account,
    BrokerConnection,
    Instrument,
    Order,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    Phrase,
    Quote,
    RiskGate,
    StrategyConfig,
    StrategyDecision,
    TaskKind,
    TaskResult,
    TaskStatus,
    Wording,
    client_order_id_for,
    joined,
    phrase,
)
from tradecore.errors import InstrumentNotFound, LeaseLost, PluginError
from tradecore.ports import BrokerPort, Clock, RepositoryPort, StrategyContext, StrategyFactory
from tradecore.services._steps import StepTimer, describe_error
from tradecore.services.orders import order_phrase, pending_order, send_recorded, status_phrase
from tradecore.services.risk import notional_of

__all__ = [
    "RECENT_ORDERS",
    "RECENT_TRADES",
    "StrategyTarget",
    "describe_intent",
    "intent_phrase",
    "only_account",
    "run_strategy",
]

RECENT_TRADES = 500
"""How many of the connection's latest fills a strategy sees."""

RECENT_ORDERS = 50
"""How many of its own latest orders a strategy sees."""


@frozen(kw_only=True)
class StrategyTarget:
    """The connection a strategy trades, as the cycle left it.

    :param blocked_reason: why no strategy may trade it now (sync failed, orders unresolved…).
    """

    connection: BrokerConnection
    broker: BrokerPort | None
    accounts: tuple[Account, ...] = ()
    blocked_reason: Wording | None = None


def describe_intent(intent: OrderIntent) -> str:
    """``buy 0.5 BTC-USD at market`` / ``sell 2 AAPL limit 190.5``, plus the reason."""
    return str(intent_phrase(intent))


def intent_phrase(intent: OrderIntent) -> Phrase:
    """:func:`describe_intent` as a translatable phrase (the strategy's reason is kept as written)."""
    order = order_phrase(intent)
    return (
        phrase("{order} ({reason})", order=order, reason=intent.reason) if intent.reason else order
    )


async def run_strategy(
    *,
    config: StrategyConfig,
    target: StrategyTarget | None,
    factories: Mapping[str, StrategyFactory],
    repository: RepositoryPort,
    clock: Clock,
    run_id: str,
    gate: RiskGate,
) -> TaskResult:
    """Evaluate ``config`` against its connection and act on its intents; never raises.

    :param gate: the cycle's risk gate, shared by all the user's strategies so that per-cycle
        limits count every order of the cycle.
    """
    secrets = target.connection.secret_values() if target is not None else ()
    timer = StepTimer(clock, TaskKind.STRATEGY, config.name, config.id, secrets=secrets)
    if target is None or target.broker is None:
        return timer.result(
            TaskStatus.SKIPPED, error=phrase("its connection is inactive or missing")
        )
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
        decision = await strategy.evaluate(context)
        if not isinstance(decision, StrategyDecision):
            raise PluginError(
                f"strategy type {config.strategy_type!r} returned {type(decision).__name__}, "
                "not a StrategyDecision"
            )
    except Exception as exc:
        return timer.result(TaskStatus.FAILURE, error=describe_error(exc))
    try:
        return await _act(
            config, target, broker, context, decision, repository, clock, run_id, gate, timer
        )
    except LeaseLost:  # the cycle is someone else's now: stop it, not just this strategy
        raise
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
        orders = await uow.orders.list(user_id, strategy_id=config.id, limit=RECENT_ORDERS)
    # Only markets have prices: a balance (Binance's BTC, USDT…; cash) is never asked for one,
    # unless the strategy itself wants it.
    instruments = {
        p.instrument.symbol: p.instrument for p in positions if not p.instrument.is_balance
    }
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
        orders=orders,
        now=clock.now(),
    )


async def _act(
    config: StrategyConfig,
    target: StrategyTarget,
    broker: BrokerPort,
    context: StrategyContext,
    decision: StrategyDecision,
    repository: RepositoryPort,
    clock: Clock,
    run_id: str,
    gate: RiskGate,
    timer: StepTimer,
) -> TaskResult:
    intents = decision.intents
    counts = {"intents": len(intents), "orders_placed": 0, "blocked": 0}
    notes: list[Wording] = list(decision.notes)
    problems: list[Wording] = []
    allowed: list[tuple[Order, OrderIntent]] = []
    for index, intent in enumerate(intents):
        account_id = intent.account_id or only_account(target.accounts)
        if account_id is None:
            problems.append(
                phrase(
                    "{intent}: the connection has several accounts; the strategy must name one",
                    intent=intent_phrase(intent),
                )
            )
            continue
        notional = notional_of(
            intent.side,
            intent.quantity,
            limit_price=intent.limit_price,
            quote=context.prices.get(intent.instrument.symbol),
        )
        block = gate.check(intent.instrument.symbol, notional, consume=not config.dry_run)
        if block is not None:
            counts["blocked"] += 1
            if config.dry_run:  # a simulation: what would be blocked is what it reports
                notes.append(
                    phrase(
                        "dry run, would {intent}, {block}",
                        intent=intent_phrase(intent),
                        block=block.phrase,
                    )
                )
            else:
                problems.append(
                    phrase("{intent} {block}", intent=intent_phrase(intent), block=block.phrase)
                )
            continue
        if config.dry_run:
            counts["would_place"] = counts.get("would_place", 0) + 1
            notes.append(phrase("dry run, would {intent}", intent=intent_phrase(intent)))
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
        allowed.append((pending_order(request, clock=clock, strategy_id=config.id), intent))
    async with repository.unit_of_work() as uow:
        for pending, _ in allowed:
            await uow.orders.add(config.user_id, pending)
        if decision.state is not None:
            await uow.strategies.save_state(config.user_id, config.id, decision.state)
        await uow.commit()
    for pending, intent in allowed:
        order = await send_recorded(
            repository=repository,
            broker=broker,
            user_id=config.user_id,
            pending=pending,
            clock=clock,
            secrets=target.connection.secret_values(),
        )
        outcome = _outcome(intent, order)
        if order.status in _NOT_PLACED_NOW:
            counts[order.status.value] = counts.get(order.status.value, 0) + 1
            problems.append(outcome)
        else:
            counts["orders_placed"] += 1
            notes.append(outcome)
    if problems:
        return timer.result(TaskStatus.FAILURE, counts=counts, error=joined(problems), notes=notes)
    return timer.result(TaskStatus.SUCCESS, counts=counts, notes=notes)


_NOT_PLACED_NOW = frozenset({OrderStatus.REJECTED, OrderStatus.UNKNOWN, OrderStatus.PENDING_SUBMIT})


def _outcome(intent: OrderIntent, order: Order) -> Phrase:
    # The broker's own words (order.reason) are a value: never translated, kept as it said them.
    described = intent_phrase(intent)
    reason = str(order.reason)
    if order.status is OrderStatus.PENDING_SUBMIT:  # too old to send (orders.SEND_DEADLINE)
        return phrase("{intent}: {reason}", intent=described, reason=reason)
    if order.status is OrderStatus.REJECTED:
        return phrase("{intent} rejected: {reason}", intent=described, reason=reason)
    if order.status is OrderStatus.UNKNOWN:
        return phrase(
            "{intent}: outcome unknown ({reason}); it will be looked up as {client_order_id}, "
            "never resent",
            intent=described,
            reason=reason,
            client_order_id=order.client_order_id,
        )
    return phrase("{intent}: {status}", intent=described, status=status_phrase(order.status))


def only_account(accounts: Sequence[Account]) -> str | None:
    """The id of the only account in ``accounts``; ``None`` when there are none or several
    (then the caller must be told which): the one rule for strategies and manual orders."""
    return accounts[0].account_id if len(accounts) == 1 else None
