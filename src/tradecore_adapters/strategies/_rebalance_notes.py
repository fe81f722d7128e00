"""The sentences of the ``rebalance`` strategy's notes, as translatable phrases whose figures
(quantities, amounts, weights) are already written with their exact digits."""

from __future__ import annotations

from collections.abc import Sequence

from tradecore.domain import Phrase, Side, joined, phrase

__all__ = ["skipped_note", "trade_note", "weights_note"]


def weights_note(
    targets: Sequence[tuple[str, str, str]],
    cash: tuple[str, str, str],
    *,
    total: str,
    no_cash: bool,
) -> Phrase:
    """``weights now: BTC-USD 45.0% (target 50.0%), cash USD …; total 1000.00 USD``.

    :param targets: ``(symbol, weight, target)`` of each target.
    :param cash: ``(currency, weight, target)`` of the cash.
    """
    parts = [
        phrase("{symbol} {weight} (target {target})", symbol=s, weight=w, target=t)
        for s, w, t in targets
    ]
    parts.append(
        phrase(
            "cash {cash} {weight} (target {target})", cash=cash[0], weight=cash[1], target=cash[2]
        )
    )
    figures = {"weights": joined(parts, ", "), "total": total, "cash": cash[0]}
    if no_cash:
        return phrase(
            "weights now: {weights}; total {total} {cash} (no {cash} position, counted as 0)",
            **figures,
        )
    return phrase("weights now: {weights}; total {total} {cash}", **figures)


def trade_note(side: Side, **figures: str) -> Phrase:
    """``buy 0.01 BTC-USD (about 400.00 USD): 40.0% toward 50.0%``.

    :param figures: ``quantity``, ``symbol``, ``notional``, ``cash``, ``weight``, ``target``.
    """
    if side is Side.BUY:
        return phrase(
            "buy {quantity} {symbol} (about {notional} {cash}): {weight} toward {target}",
            **figures,
        )
    return phrase(
        "sell {quantity} {symbol} (about {notional} {cash}): {weight} toward {target}", **figures
    )


def skipped_note(side: Side, **figures: str) -> Phrase:
    """Why a trade is not made: less than one ``quantity_step`` (figures ``symbol``, ``step``),
    or below ``min_order`` (``quantity``, ``symbol``, ``notional``, ``cash``, ``min_order``)."""
    buy = side is Side.BUY
    if "step" in figures:
        return (
            phrase("no buy of {symbol}: it is less than one quantity_step ({step})", **figures)
            if buy
            else phrase(
                "no sell of {symbol}: it is less than one quantity_step ({step})", **figures
            )
        )
    if buy:
        return phrase(
            "no buy of {quantity} {symbol}: {notional} {cash} is below min_order {min_order}",
            **figures,
        )
    return phrase(
        "no sell of {quantity} {symbol}: {notional} {cash} is below min_order {min_order}",
        **figures,
    )
