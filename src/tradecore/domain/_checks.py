"""attrs validators and converters shared by the domain types.

Money, prices and quantities are :class:`~decimal.Decimal`; a float never enters the domain.
Datetimes are timezone-aware and normalised to UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from tradecore.domain.secret import Secret
from tradecore.errors import DomainError

__all__ = [
    "decimal",
    "freeze_mapping",
    "frozen_secrets",
    "frozen_settings",
    "non_empty",
    "non_negative",
    "non_negative_duration",
    "optional_decimal",
    "optional_utc",
    "positive",
    "utc",
]


def _name(attribute: Any) -> str:
    return str(getattr(attribute, "name", "value"))


def decimal(instance: object, attribute: Any, value: Any) -> None:
    """Require a finite :class:`Decimal`; reject floats, ints-as-money and NaN with a clear error."""
    if type(value) is Decimal and value.is_finite():  # the common case, checked first: hot path
        return
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise DomainError(
            f"{type(instance).__name__}.{_name(attribute)} must be a Decimal, "
            f"got {type(value).__name__} ({value!r})"
        )
    if not value.is_finite():
        raise DomainError(f"{type(instance).__name__}.{_name(attribute)} must be finite")


def optional_decimal(instance: object, attribute: Any, value: Any) -> None:
    """Like :func:`decimal` but accepts ``None``."""
    if value is not None:
        decimal(instance, attribute, value)


def non_negative(instance: object, attribute: Any, value: Any) -> None:
    """Require a Decimal that is zero or more."""
    decimal(instance, attribute, value)
    assert isinstance(value, Decimal)
    if value < 0:
        raise DomainError(f"{type(instance).__name__}.{_name(attribute)} must not be negative")


def positive(instance: object, attribute: Any, value: Any) -> None:
    """Require a Decimal greater than zero."""
    decimal(instance, attribute, value)
    assert isinstance(value, Decimal)
    if value <= 0:
        raise DomainError(f"{type(instance).__name__}.{_name(attribute)} must be greater than zero")


def utc(value: object) -> datetime:
    """Convert an aware datetime to UTC; reject naive datetimes and anything else."""
    if type(value) is datetime and value.tzinfo is UTC:  # already UTC: nothing to convert
        return value
    if not isinstance(value, datetime):
        raise DomainError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise DomainError(f"naive datetime {value.isoformat()} has no timezone; use UTC")
    return value.astimezone(UTC)


def optional_utc(value: object) -> datetime | None:
    """Like :func:`utc` but lets ``None`` through."""
    return None if value is None else utc(value)


def non_negative_duration(instance: object, attribute: Any, value: Any) -> None:
    """Require a :class:`timedelta` of zero or more."""
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise DomainError(f"{type(instance).__name__}.{_name(attribute)} must be a duration >= 0")


def non_empty(instance: object, attribute: Any, value: Any) -> None:
    """Require a string with something other than whitespace in it."""
    if not isinstance(value, str) or not value.strip():
        raise DomainError(f"{type(instance).__name__}.{_name(attribute)} must not be empty")


def freeze_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Copy a mapping into a read-only view so frozen objects stay frozen."""
    return MappingProxyType(dict(value or {}))


def frozen_settings(value: Mapping[str, str] | None) -> Mapping[str, str]:
    """Freeze a mapping of non-secret settings; every value must be a string."""
    frozen_value = freeze_mapping(value)
    for name, setting in frozen_value.items():
        if not isinstance(setting, str):
            raise DomainError(f"setting {name!r} must be a string")
    return frozen_value


def frozen_secrets(value: Mapping[str, Secret] | None) -> Mapping[str, Secret]:
    """Freeze a mapping of secrets; every value must be wrapped in :class:`Secret`."""
    frozen_value = freeze_mapping(value)
    for name, secret in frozen_value.items():
        if not isinstance(secret, Secret):
            raise DomainError(f"secret {name!r} must be wrapped in Secret")
    return frozen_value
