"""Saxo values held to the ranges of :mod:`tradecore_adapters._reported` before anything is
stored: each reader raises :class:`~tradecore.errors.MalformedResponse` naming the endpoint, the
item, the field and the value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from tradecore_adapters._reported import (
    reported_amount,
    reported_figure,
    reported_text_id,
    reported_time,
)
from tradecore_adapters.saxo._json import identifier, malformed, number, opt_number

__all__ = [
    "amount_in_range",
    "figure_in_range",
    "id_in_range",
    "opt_figure_in_range",
    "text_id_in_range",
    "time_in_range",
]

_V = TypeVar("_V")


def _checked(value: _V, key: str, check: Callable[[_V], _V], *, what: str) -> _V:
    try:
        return check(value)
    except ValueError as exc:
        raise malformed(what, f"{key!r} {exc}") from None


def amount_in_range(
    m: Mapping[str, object], key: str, *, what: str, signed: bool = False
) -> Decimal:
    """``m[key]``, a quantity or price within the rule for amounts; negative only when
    ``signed``."""
    value = number(m, key, what=what)
    return _checked(value, key, lambda v: reported_amount(v, signed=signed), what=what)


def figure_in_range(value: Decimal | None, key: str, *, what: str) -> Decimal | None:
    """``value``, a figure Saxo computed (an average price): any digits, a sane size."""
    return None if value is None else _checked(value, key, reported_figure, what=what)


def opt_figure_in_range(m: Mapping[str, object], key: str, *, what: str) -> Decimal | None:
    """``m[key]``, a figure Saxo computed (market value, profit), or ``None`` when absent."""
    return figure_in_range(opt_number(m, key, what=what), key, what=what)


def id_in_range(m: Mapping[str, object], key: str, *, what: str) -> str:
    """``m[key]``, an id (text or a whole number) of 1 to 64 printable ASCII characters."""
    return text_id_in_range(identifier(m, key, what=what), key, what=what)


def text_id_in_range(value: str, key: str, *, what: str) -> str:
    """``value``, an id already read, of 1 to 64 printable ASCII characters."""
    return _checked(value, key, reported_text_id, what=what)


def time_in_range(value: datetime, key: str, *, what: str) -> datetime:
    """``value``, a time already read, within the years :mod:`tradecore_adapters._reported`
    accepts."""
    return _checked(value, key, reported_time, what=what)
