"""The ``rebalance`` strategy type: keep target weights across instruments of one connection
within a tolerance band.

Every target is valued at its last price (quantity times last), the cash position 1:1; the total is
their sum, and what the targets leave over is the cash's weight. When any target's weight is more
than ``band`` away from its target, every target is traded back to its weight: sells first, then
buys, quantities rounded down to ``quantity_step``, trades below ``min_order`` skipped, and buys
scaled down so that they never cost more than the cash there is after the sells. Holdings that
are not targets are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from attrs import field, frozen

from tradecore.domain import (
    Instrument,
    OrderIntent,
    Phrase,
    Position,
    Quote,
    Side,
    StrategyConfig,
    StrategyDecision,
    Wording,
    joined,
    phrase,
)
from tradecore.errors import ConfigurationError
from tradecore.ports import (
    ParameterKind,
    ParameterValues,
    StrategyContext,
    StrategyFactory,
    StrategyParameter,
)
from tradecore_adapters.strategies._amounts import money, percent, plain, round_down
from tradecore_adapters.strategies._market import (
    base_asset,
    buy_price,
    holding,
    order_instrument,
    quote_currency,
    sell_price,
)
from tradecore_adapters.strategies._parameters import positive_parameter, symbol_parameter
from tradecore_adapters.strategies._rebalance_notes import skipped_note, trade_note, weights_note

__all__ = ["PAPER_CASH_SYMBOL", "REBALANCE_FACTORY", "RebalanceStrategy"]

NAME = "rebalance"

PAPER_CASH_SYMBOL = "USD"
"""The symbol of the paper broker's cash position with its default settings: the account
currency (``USD`` unless the connection's ``currency`` setting says otherwise), asset type
``cash``."""

PARAMETERS = (
    StrategyParameter(
        name="targets",
        description="The weight of each instrument, SYMBOL=WEIGHT pairs adding up to at most 1; "
        "the rest is the cash's weight.",
        kind=ParameterKind.WEIGHTS,
        required=True,
        example="BTC-USD=0.5,ETH-USD=0.3",
    ),
    StrategyParameter(
        name="cash",
        description="The symbol of the cash position the targets are priced in (USD on the "
        "paper broker, USDT or another quote asset on Binance).",
        kind=ParameterKind.TEXT,
        default=PAPER_CASH_SYMBOL,
        example="USDT",
    ),
    StrategyParameter(
        name="band",
        description="How far a weight may drift from its target before everything is "
        "rebalanced, as a fraction (0.05 is 5 percentage points).",
        kind=ParameterKind.DECIMAL,
        default="0.05",
        minimum="0.001",
        maximum="0.5",
        example="0.1",
    ),
    StrategyParameter(
        name="min_order",
        description="Skip a trade worth less than this, in the cash currency (0 skips none).",
        kind=ParameterKind.DECIMAL,
        default="10",
        minimum="0",
        example="25",
    ),
    StrategyParameter(
        name="quantity_step",
        description="The lot size: every quantity is rounded down to a multiple of it "
        "(more than 0).",
        kind=ParameterKind.DECIMAL,
        default="0.0001",
        example="0.001",
    ),
)


def _targets(value: Iterable[tuple[str, Decimal]]) -> tuple[tuple[str, Decimal], ...]:
    return tuple(value)


@frozen(kw_only=True)
class _Holding:
    # One target as it stands: its price, what is held and what that is worth.
    symbol: str
    target: Decimal
    quote: Quote
    quantity: Decimal
    value: Decimal


@frozen(kw_only=True)
class _Trade:
    symbol: str
    side: Side
    quantity: Decimal
    notional: Decimal  # at the price the trade is expected to get (bid for sells, ask for buys)


@frozen(kw_only=True)
class RebalanceStrategy:
    """One configured ``rebalance`` strategy.

    :param targets: ``(symbol, weight)`` pairs, in the order given; weights add up to at most 1.
    :param cash: the symbol of the cash position.
    :param band: the largest tolerated absolute difference between a weight and its target.
    :param min_order: trades worth less are skipped.
    :param quantity_step: quantities are rounded down to a multiple of it.
    """

    targets: tuple[tuple[str, Decimal], ...] = field(converter=_targets)
    cash: str
    band: Decimal
    min_order: Decimal
    quantity_step: Decimal

    def instruments(self) -> Sequence[Instrument]:
        """The target instruments, so the cycle prices them even when none is held."""
        return tuple(Instrument(symbol=symbol) for symbol, _ in self.targets)

    async def evaluate(self, context: StrategyContext) -> StrategyDecision:
        """Trade back to the targets when a weight left the band (see :meth:`decide`)."""
        return self.decide(context)

    def decide(self, context: StrategyContext) -> StrategyDecision:
        """The same as :meth:`evaluate`, synchronously: pure and deterministic."""
        unfinished = sorted(
            {o.request.instrument.symbol for o in context.orders if not o.is_terminal}
        )
        if unfinished:
            return _nothing(
                phrase(
                    "earlier orders of {symbols} are not finished yet, so no rebalance this cycle",
                    symbols=", ".join(unfinished),
                )
            )
        missing = [s for s, _ in self.targets if _price(context.prices.get(s)) is None]
        if missing:
            return _nothing(
                phrase(
                    "no price for {symbols}, so no rebalance this cycle", symbols=", ".join(missing)
                )
            )
        foreign: list[Wording] = [
            phrase("{symbol} is priced in {currency}", symbol=symbol, currency=currency)
            for symbol, _ in self.targets
            if (currency := quote_currency(context, symbol)) and currency != self.cash
        ]
        if foreign:
            return _nothing(
                phrase(
                    "{prices}, not in the cash currency {cash}, so no rebalance: set the cash "
                    "parameter to the targets' quote currency",
                    prices=joined(foreign),
                    cash=self.cash,
                )
            )

        cash_position = holding(context.positions, self.cash)
        account = cash_position.account_id if cash_position is not None else None
        if cash_position is None and len(context.accounts) > 1:
            return _nothing(
                phrase(
                    "no {cash} cash position, and the connection has several accounts: "
                    "rebalance trades in the account that holds the cash, so nothing this cycle",
                    cash=self.cash,
                )
            )
        positions = [p for p in context.positions if account is None or p.account_id == account]
        cash = cash_position.quantity if cash_position is not None else Decimal(0)
        holdings = [self._holding(context, positions, symbol, t) for symbol, t in self.targets]
        total = cash + sum((h.value for h in holdings), Decimal(0))
        if total <= 0:
            return _nothing(
                phrase(
                    "nothing to rebalance: the targets and the {cash} cash are worth {total} "
                    "{cash}",
                    cash=self.cash,
                    total=money(total),
                )
            )

        notes: list[Wording] = [self._weights(holdings, cash, total, cash_position is None)]
        off = [h for h in holdings if abs(h.value / total - h.target) > self.band]
        if not off:
            notes.append(
                phrase(
                    "every weight is within the {band} band; nothing to trade",
                    band=percent(self.band),
                )
            )
            return StrategyDecision(notes=notes)
        drifts = joined(
            [
                phrase(
                    "{symbol} {drift} points",
                    symbol=h.symbol,
                    drift=_points(h.value / total - h.target),
                )
                for h in off
            ],
            ", ",
        )
        notes.append(
            phrase(
                "outside the {band} band: {drifts}; trading every target back to its weight",
                band=percent(self.band),
                drifts=drifts,
            )
        )

        sells, buys = self._trades(holdings, total, notes)
        available = cash + sum((t.notional for t in sells), Decimal(0))
        buys = self._fit(buys, holdings, available, notes)
        trades = [*sells, *buys]
        if not trades:
            notes.append(phrase("every trade is below min_order or rounds to 0; nothing to order"))
            return StrategyDecision(notes=notes)
        by_symbol = {h.symbol: h for h in holdings}
        intents = []
        for trade in trades:
            held = by_symbol[trade.symbol]
            intents.append(
                OrderIntent(
                    instrument=order_instrument(context, trade.symbol),
                    side=trade.side,
                    quantity=trade.quantity,
                    account_id=account or self._account(context, trade.symbol),
                    reason=phrase("rebalance to {weight}", weight=percent(held.target)),
                )
            )
            notes.append(
                trade_note(
                    trade.side,
                    quantity=plain(trade.quantity),
                    symbol=trade.symbol,
                    notional=money(trade.notional),
                    cash=self.cash,
                    weight=percent(held.value / total),
                    target=percent(held.target),
                )
            )
        return StrategyDecision(intents=intents, notes=notes)

    def _holding(
        self, context: StrategyContext, positions: Sequence[Position], symbol: str, target: Decimal
    ) -> _Holding:
        quote = context.prices[symbol]
        held = holding(positions, symbol, base_asset(symbol, quote, self.cash))
        quantity = held.quantity if held is not None else Decimal(0)
        return _Holding(
            symbol=symbol,
            target=target,
            quote=quote,
            quantity=quantity,
            value=quantity * quote.last,
        )

    def _account(self, context: StrategyContext, symbol: str) -> str | None:
        quote = context.prices.get(symbol)
        held = holding(context.positions, symbol, base_asset(symbol, quote, self.cash))
        return held.account_id if held is not None else None

    def _weights(
        self, holdings: Sequence[_Holding], cash: Decimal, total: Decimal, no_cash: bool
    ) -> Phrase:
        rest = 1 - sum((h.target for h in holdings), Decimal(0))
        return weights_note(
            [(h.symbol, percent(h.value / total), percent(h.target)) for h in holdings],
            (self.cash, percent(cash / total), percent(rest)),
            total=money(total),
            no_cash=no_cash,
        )

    def _trades(
        self, holdings: Sequence[_Holding], total: Decimal, notes: list[Wording]
    ) -> tuple[list[_Trade], list[_Trade]]:
        # What each target needs, rounded down and without those below min_order.
        sells: list[_Trade] = []
        buys: list[_Trade] = []
        for h in holdings:
            gap = total * h.target - h.value
            if not gap:
                continue
            side = Side.BUY if gap > 0 else Side.SELL
            quantity = abs(gap) / h.quote.last
            if side is Side.SELL:
                quantity = min(quantity, h.quantity)
            trade = self._trade(h, side, round_down(quantity, self.quantity_step), notes)
            if trade is not None:
                (buys if side is Side.BUY else sells).append(trade)
        return sells, buys

    def _trade(
        self, h: _Holding, side: Side, quantity: Decimal, notes: list[Wording]
    ) -> _Trade | None:
        if not quantity:
            notes.append(skipped_note(side, symbol=h.symbol, step=plain(self.quantity_step)))
            return None
        price = buy_price(h.quote) if side is Side.BUY else sell_price(h.quote)
        assert price is not None  # checked: every target has a price
        notional = quantity * price
        if notional < self.min_order:
            notes.append(
                skipped_note(
                    side,
                    quantity=plain(quantity),
                    symbol=h.symbol,
                    notional=money(notional),
                    cash=self.cash,
                    min_order=plain(self.min_order),
                )
            )
            return None
        return _Trade(symbol=h.symbol, side=side, quantity=quantity, notional=notional)

    def _fit(
        self,
        buys: list[_Trade],
        holdings: Sequence[_Holding],
        available: Decimal,
        notes: list[Wording],
    ) -> list[_Trade]:
        # Scale the buys down, when needed, so that they cost at most the cash available.
        cost = sum((t.notional for t in buys), Decimal(0))
        if not buys or cost <= available:
            return buys
        factor = max(available, Decimal(0)) / cost
        notes.append(
            phrase(
                "buys scaled down to {factor} to fit the {available} {cash} available after sells",
                factor=percent(factor),
                available=money(max(available, Decimal(0))),
                cash=self.cash,
            )
        )
        by_symbol = {h.symbol: h for h in holdings}
        fitted = []
        for buy in buys:
            quantity = round_down(buy.quantity * factor, self.quantity_step)
            trade = self._trade(by_symbol[buy.symbol], Side.BUY, quantity, notes)
            if trade is not None:
                fitted.append(trade)
        return fitted


def _price(quote: Quote | None) -> Decimal | None:
    return quote.last if quote is not None and quote.last > 0 else None


def _points(drift: Decimal) -> str:
    return format((drift * 100).quantize(Decimal("0.1")), "+f")


def _nothing(note: Wording) -> StrategyDecision:
    return StrategyDecision(notes=[note])


def create(config: StrategyConfig, values: ParameterValues) -> RebalanceStrategy:
    """Build a ``rebalance`` strategy from its validated parameters.

    :raises ConfigurationError: the weights add up to more than 1, the cash is not a symbol or is
        one of the targets, or quantity_step is not more than 0.
    """
    owner = f"strategy {config.name!r} ({NAME})"
    targets: Mapping[str, Decimal] = values.weights("targets")
    weight = sum(targets.values(), Decimal(0))
    if weight > 1:
        raise ConfigurationError(
            f"{owner}: parameter 'targets' adds up to {plain(weight)}; the weights must add up "
            "to at most 1 (what they leave is the cash's weight)"
        )
    cash = symbol_parameter(values, "cash", owner=owner, example="USDT")
    if cash in targets:
        raise ConfigurationError(
            f"{owner}: the cash {cash} cannot be one of the targets; its weight is what the "
            "targets leave"
        )
    return RebalanceStrategy(
        targets=tuple(targets.items()),
        cash=cash,
        band=values.decimal("band"),
        min_order=values.decimal("min_order"),
        quantity_step=positive_parameter(values, "quantity_step", owner=owner),
    )


REBALANCE_FACTORY = StrategyFactory(
    name=NAME,
    description="Keep target weights across instruments within a band: when one drifts out, "
    "trade every target back (sells first).",
    create=create,
    parameters=PARAMETERS,
)
"""The ``rebalance`` strategy type, registered by :mod:`tradecore_adapters.strategies.plugin`."""
