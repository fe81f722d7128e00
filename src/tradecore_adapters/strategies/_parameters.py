"""Checks on validated parameters that a :class:`~tradecore.ports.StrategyParameter` cannot
declare: a decimal *more than* 0 (declared bounds are inclusive) and a text that must be one
symbol. They run in the factories' ``create``, so a mistake is refused when the strategy is added.
"""

from __future__ import annotations

import re
from decimal import Decimal

from tradecore.errors import ConfigurationError
from tradecore.ports import ParameterValues
from tradecore_adapters.strategies._amounts import plain

__all__ = ["optional_positive_parameter", "positive_parameter", "symbol_parameter"]

# The shape tradecore's own parameter kinds accept for a symbol (ParameterKind.SYMBOLS).
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")


def positive_parameter(values: ParameterValues, name: str, *, owner: str) -> Decimal:
    """The ``decimal`` parameter ``name``, refused unless it is more than 0.

    :raises ConfigurationError: naming ``owner``, the parameter and the value.
    """
    value = values.decimal(name)
    if value <= 0:
        raise ConfigurationError(
            f"{owner}: parameter {name!r} must be more than 0; got {plain(value)!r}"
        )
    return value


def optional_positive_parameter(
    values: ParameterValues, name: str, *, owner: str
) -> Decimal | None:
    """Like :func:`positive_parameter`, ``None`` when the parameter is not set."""
    return positive_parameter(values, name, owner=owner) if name in values else None


def symbol_parameter(values: ParameterValues, name: str, *, owner: str, example: str) -> str:
    """The ``text`` parameter ``name``, refused unless it is one symbol (``BTC-USD``).

    :raises ConfigurationError: naming ``owner``, the parameter and the value.
    """
    symbol = values.text(name)
    if not _SYMBOL.fullmatch(symbol):
        raise ConfigurationError(
            f"{owner}: parameter {name!r} must be one symbol such as {example}; got {symbol!r}"
        )
    return symbol
