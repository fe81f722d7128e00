"""The one rule for amounts people type: quantities, prices and notional limits.

An amount is an exact :class:`~decimal.Decimal` (never a float), finite, greater than 0, below
:data:`MAX_AMOUNT`, with at most :data:`MAX_AMOUNT_DECIMALS` decimal places and
:data:`MAX_AMOUNT_DIGITS` significant digits. Anything else is refused with one sentence before
anything is recorded: an absurd quantity never reaches a broker, whose arithmetic (or ours)
would fail half-way through. The bounds are far beyond any real order (a quadrillion units, a
trillionth of a unit) and are documented in ``docs/orders.md``.
"""

from __future__ import annotations

from decimal import Decimal

from tradecore.errors import DomainError

__all__ = ["MAX_AMOUNT", "MAX_AMOUNT_DECIMALS", "MAX_AMOUNT_DIGITS", "checked_amount"]

MAX_AMOUNT = Decimal(10) ** 15
"""Every amount is below this (10^15)."""

MAX_AMOUNT_DECIMALS = 12
"""The most decimal places an amount may have."""

MAX_AMOUNT_DIGITS = 18
"""The most significant digits an amount may have."""


def checked_amount(kind: str, value: Decimal) -> Decimal:
    """``value``, once it follows the rule for amounts (see the module).

    :param kind: what the amount is (``"quantity"``, ``"limit price"``…), for the message.
    :raises DomainError: it is not a Decimal, not finite, not above 0, too large, or has too
        many decimal places or digits; the message says which and what the bound is.
    """
    if not isinstance(value, Decimal):
        raise DomainError(f"a {kind} must be an exact decimal number, got {type(value).__name__}")
    if not value.is_finite():
        raise DomainError(f"a {kind} must be a finite number, got {value:f}")
    if value <= 0:
        raise DomainError(f"a {kind} must be greater than 0, got {value:f}")
    if value >= MAX_AMOUNT:
        raise DomainError(f"a {kind} must be less than {MAX_AMOUNT:,f}, got {value:f}")
    _, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)  # finite
    if -exponent > MAX_AMOUNT_DECIMALS:
        raise DomainError(
            f"a {kind} may have at most {MAX_AMOUNT_DECIMALS} decimal places, got {value:f}"
        )
    if len(digits) > MAX_AMOUNT_DIGITS:
        raise DomainError(
            f"a {kind} may have at most {MAX_AMOUNT_DIGITS} significant digits, got {value:f}"
        )
    return value
