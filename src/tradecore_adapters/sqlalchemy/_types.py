"""Column types that keep the domain's promises on every backend: exact decimals, UTC times.

* :class:`ExactDecimal` is ``NUMERIC`` (unconstrained) on PostgreSQL, which keeps every digit and
  the scale (``1.10`` stays ``1.10``), and ``TEXT`` on SQLite, whose ``NUMERIC`` affinity would
  turn ``"1.10"`` into a binary float. The value goes in and out as a :class:`~decimal.Decimal`
  or its canonical string; no float is ever involved.
* :class:`UtcDateTime` is ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL and fixed-width ISO text in
  UTC (``2024-01-01 00:00:00.000000``) on SQLite, so text order is time order. Values come back
  timezone-aware in UTC; a naive datetime is refused on the way in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

from tradecore.errors import RepositoryError

__all__ = ["ExactDecimal", "UtcDateTime", "sqlite_datetime", "sqlite_decimal"]


def _decimal_text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Decimal) or not value.is_finite():
        raise RepositoryError(f"expected a finite Decimal for the database, got {value!r}")
    return str(value)


sqlite_decimal = _decimal_text
"""How :class:`ExactDecimal` stores a value on SQLite (for bulk paths that bypass SQLAlchemy)."""


def _decimal_from_text(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _decimal(value: Decimal | None) -> Decimal | None:
    if value is not None and (not isinstance(value, Decimal) or not value.is_finite()):
        raise RepositoryError(f"expected a finite Decimal for the database, got {value!r}")
    return value


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored without rounding or float conversion (see the module docstring)."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        return _decimal_text if dialect.name == "sqlite" else _decimal

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _decimal_from_text
        return None  # psycopg returns NUMERIC as Decimal, digits and scale intact


def _utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _to_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


sqlite_datetime = _utc_text
"""How :class:`UtcDateTime` stores a value on SQLite (for bulk paths that bypass SQLAlchemy)."""


def _utc_from_text(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _to_utc(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise RepositoryError(f"expected a timezone-aware datetime for the database, got {value!r}")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _to_utc(value)


def _as_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, microsecond precision (see the module docstring)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(26))
        return dialect.type_descriptor(DateTime(timezone=True))

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        return _utc_text if dialect.name == "sqlite" else _utc_or_none

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        return _utc_from_text if dialect.name == "sqlite" else _as_utc
