"""The ranges every broker adapter holds the values a broker reports to, before anything is stored.

A broker's payload is input like any other: one absurd number stored once (a trade id of 10^23, a
price with forty digits, a fill dated in the year 40000) breaks every later sync or every report
that reads it. So the mapping layers refuse, with one sentence naming the field and the value:

- amounts (quantities, prices, fees, balances) that the domain's rule for amounts would refuse
  (:func:`tradecore.domain.checked_amount`: finite, below 10^15, at most 12 decimal places and
  18 significant digits); a broker's amount may also be 0, and negative where the field is signed;
- figures the broker computed (average prices, market values, profits) of 10^15 or more in size;
- ids outside the integer range the broker documents (:func:`id_in_range`), and text ids that
  are empty, longer than 64 characters or not printable ASCII (:func:`reported_text_id`);
- times outside :data:`EARLIEST` … :data:`LATEST`.

The functions raise :class:`ValueError` with a short problem text to follow the field's name
(``"is -5, outside the range 0..9223372036854775807"``); each mapping adds the endpoint, the
symbol and the row and raises its broker's ``MalformedResponse``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from tradecore.domain.amounts import MAX_AMOUNT, checked_amount
from tradecore.errors import DomainError

__all__ = [
    "EARLIEST",
    "INT64_MAX",
    "LATEST",
    "id_in_range",
    "reported_amount",
    "reported_figure",
    "reported_text_id",
    "reported_time",
]

INT64_MAX: Final = 2**63 - 1
"""The largest signed 64-bit integer: Binance's ids are ``long`` values from 0 up to this."""

EARLIEST: Final = datetime(1990, 1, 1, tzinfo=UTC)
"""No broker tradecore knows reports a fill or a position before this."""

LATEST: Final = datetime(2100, 1, 1, tzinfo=UTC)
"""Nor after this: a time past it is a broken payload, not the future."""


def reported_amount(value: Decimal, *, signed: bool = False) -> Decimal:
    """``value`` once it is within the rule for amounts; 0 passes, a negative value only when
    ``signed``.

    :raises ValueError: outside the rule; the text (to follow the field's name) says which bound
        and shows the value: ``"must be less than 1,000,000,000,000,000, got 1E+30"``.
    """
    if value < 0 and not signed:
        raise ValueError(f"is negative, got {value:f}")
    if value == 0:
        return value
    try:
        checked_amount("value", abs(value))
    except DomainError as exc:
        problem = str(exc).removeprefix("a value ")
        raise ValueError(problem.replace(f"got {-value:f}", f"got {value:f}")) from None
    return value


def reported_figure(value: Decimal) -> Decimal:
    """``value``, a figure the broker computed (an average price, a market value, a profit),
    when its size is below :data:`~tradecore.domain.amounts.MAX_AMOUNT`; its digits are not
    limited, as a computed average may carry many.

    :raises ValueError: it is that large or larger (either sign).
    """
    if not abs(value) < MAX_AMOUNT:
        raise ValueError(f"must be less than {MAX_AMOUNT:,f} in size, got {value:f}")
    return value


def reported_text_id(value: str, *, longest: int = 64) -> str:
    """``value``, an id the broker sends as text, when it is 1 to ``longest`` printable ASCII
    characters without spaces (what the database and every message can hold).

    :raises ValueError: otherwise; the text does not quote a long or unprintable value.
    """
    if not 0 < len(value) <= longest:
        raise ValueError(f"is {len(value)} characters long, not 1 to {longest}")
    if not (value.isascii() and value.isprintable()) or " " in value:
        raise ValueError("is not printable ASCII without spaces")
    return value


def id_in_range(value: int, *, low: int = 0, high: int = INT64_MAX) -> int:
    """``value`` when ``low <= value <= high``.

    :raises ValueError: outside; the text (to follow the field's name) names the range.
    """
    if not low <= value <= high:
        raise ValueError(f"is {value}, outside the range {low}..{high}")
    return value


def reported_time(value: datetime) -> datetime:
    """``value`` (aware UTC) when from :data:`EARLIEST` up to :data:`LATEST`.

    :raises ValueError: outside; the text (to follow the field's name) names the range.
    """
    if not EARLIEST <= value < LATEST:
        raise ValueError(
            f"is {value:%Y-%m-%d %H:%M:%S} UTC, outside the years {EARLIEST:%Y}..{LATEST.year - 1}"
        )
    return value
