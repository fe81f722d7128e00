"""Exact arithmetic and wording shared by the built-in strategies: quantities rounded down to a
step, and numbers, weights and times written for a person (the digest)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

__all__ = [
    "money",
    "percent",
    "plain",
    "round_down",
    "when",
]

_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


def round_down(quantity: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of ``step`` that is at most ``quantity`` (zero or more), exactly.

    ``round_down(Decimal("0.00163"), Decimal("0.0001")) == Decimal("0.0016")``.
    """
    if step <= 0:
        raise ValueError(f"a quantity step must be more than 0, got {step}")
    if quantity <= 0:
        return Decimal(0)
    steps = (quantity / step).to_integral_value(rounding=ROUND_FLOOR)
    return _tidy(steps * step)


def _tidy(value: Decimal) -> Decimal:
    # The same number without trailing zeros, never in exponent form (0.0010 -> 0.001, 1E+2 -> 100).
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def plain(value: Decimal) -> str:
    """``value`` as written, without exponent (``1E+2`` reads ``100``)."""
    return format(value, "f")


def money(value: Decimal) -> str:
    """An amount of money to the cent, for notes (``97.97``)."""
    return format(value.quantize(_CENT), "f")


def percent(weight: Decimal) -> str:
    """A weight as a percentage to a tenth (``0.4567`` reads ``45.7%``)."""
    return f"{format((weight * 100).quantize(_TENTH), 'f')}%"


def when(moment: datetime) -> str:
    """A UTC time for notes: ``2026-11-22 10:00 UTC``."""
    return f"{moment:%Y-%m-%d %H:%M} UTC"
