"""Typed strategy parameters: what a strategy type accepts (:class:`StrategyParameter`) and the
validated values it is built with (:class:`ParameterValues`).

A user gives parameters as text (``--param amount=100``); :func:`parse_parameters` checks every one
against its declaration (kind, bounds, choices, required) and converts it, so a strategy never sees
a malformed value, and a mistake is refused with a sentence when the strategy is added.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import TypeVar

from attrs import field, frozen

from tradecore.domain._checks import non_empty
from tradecore.errors import ConfigurationError

__all__ = [
    "ParameterKind",
    "ParameterValues",
    "StrategyParameter",
    "format_duration",
    "parse_duration",
    "parse_parameters",
]

_T = TypeVar("_T")


class ParameterKind(enum.StrEnum):
    """How a parameter's text is read.

    * ``text``: as given (with ``choices`` when it is an enumeration);
    * ``decimal``: an exact number (``100``, ``0.25``), never a float;
    * ``integer``: a whole number;
    * ``boolean``: ``true``/``false`` (also ``yes``/``no``, ``on``/``off``, ``1``/``0``);
    * ``duration``: a number and a unit, ``m`` minutes, ``h`` hours, ``d`` days, ``w`` weeks
      (``30m``, ``4h``, ``1d``);
    * ``symbols``: a comma-separated list of symbols (``BTC-USD,ETH-USD``);
    * ``weights``: ``SYMBOL=WEIGHT`` pairs separated by commas (``BTC-USD=0.6,ETH-USD=0.4``),
      each weight a decimal between 0 and 1.
    """

    TEXT = "text"
    DECIMAL = "decimal"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DURATION = "duration"
    SYMBOLS = "symbols"
    WEIGHTS = "weights"


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@frozen(kw_only=True)
class StrategyParameter:
    """One parameter a strategy type accepts.

    :param default: the text used when the user gives none (parsed like a given value).
    :param required: the user must give it (a required parameter has no default).
    :param minimum: the smallest allowed value, as text of the parameter's kind (``decimal``,
        ``integer`` and ``duration`` only).
    :param maximum: the largest allowed value, likewise.
    :param choices: the allowed values of a ``text`` parameter.
    :param example: a value shown in help and error messages.
    """

    name: str = field(validator=non_empty)
    description: str
    kind: ParameterKind = field(default=ParameterKind.TEXT, converter=ParameterKind)
    default: str | None = None
    required: bool = False
    minimum: str | None = None
    maximum: str | None = None
    choices: tuple[str, ...] = field(default=(), converter=_strings)
    example: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.required and self.default is not None:
            raise ConfigurationError(
                f"parameter {self.name!r}: a required parameter has no default"
            )
        if self.default is not None:
            self.parse(self.default, owner=f"parameter {self.name!r} (its default)")

    def parse(self, text: str, *, owner: str) -> object:
        """Convert ``text`` to this parameter's kind and check its bounds.

        :raises ConfigurationError: naming ``owner`` and the parameter, saying what was expected.
        """
        where = f"{owner}: parameter {self.name!r}"
        value = _READERS[self.kind](text.strip(), where)
        if self.choices and value not in self.choices:
            raise ConfigurationError(
                f"{where} must be one of {', '.join(self.choices)}; got {text!r}"
            )
        for bound, wrong in ((self.minimum, "at least"), (self.maximum, "at most")):
            if bound is None:
                continue
            limit = _READERS[self.kind](bound, f"parameter {self.name!r} bound")
            assert isinstance(value, (Decimal, int, timedelta))
            too_small = wrong == "at least" and value < limit  # type: ignore[operator]
            too_large = wrong == "at most" and value > limit  # type: ignore[operator]
            if too_small or too_large:
                raise ConfigurationError(f"{where} must be {wrong} {bound}; got {text!r}")
        return value


class ParameterValues(Mapping[str, object]):
    """A strategy's validated parameters, read with typed accessors.

    Every declared parameter that was given or has a default is present; the others are absent
    (``"name" in values`` tells). An accessor raises :class:`ConfigurationError` when the
    parameter is absent or of another kind, which is a bug in the strategy, not the user's.
    """

    def __init__(self, values: Mapping[str, object], *, owner: str) -> None:
        self._values = MappingProxyType(dict(values))
        self._owner = owner

    def __getitem__(self, name: str) -> object:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"ParameterValues({dict(self._values)!r})"

    def _get(self, name: str, kind: type[_T]) -> _T:
        if name not in self._values:
            raise ConfigurationError(f"{self._owner}: parameter {name!r} is not set")
        value = self._values[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigurationError(
                f"{self._owner}: parameter {name!r} is not a {kind.__name__} ({value!r})"
            )
        return value

    def text(self, name: str) -> str:
        """A ``text`` parameter."""
        return self._get(name, str)

    def decimal(self, name: str) -> Decimal:
        """A ``decimal`` parameter."""
        return self._get(name, Decimal)

    def integer(self, name: str) -> int:
        """An ``integer`` parameter."""
        return self._get(name, int)

    def boolean(self, name: str) -> bool:
        """A ``boolean`` parameter."""
        return self._get(name, bool)

    def duration(self, name: str) -> timedelta:
        """A ``duration`` parameter."""
        return self._get(name, timedelta)

    def symbols(self, name: str) -> tuple[str, ...]:
        """A ``symbols`` parameter, in the order given, without repeats."""
        return self._get(name, tuple)

    def weights(self, name: str) -> Mapping[str, Decimal]:
        """A ``weights`` parameter: symbol to weight, in the order given."""
        return self._get(name, MappingProxyType)


def parse_parameters(
    specs: Iterable[StrategyParameter], given: Mapping[str, str], *, owner: str
) -> ParameterValues:
    """Check ``given`` against ``specs`` and convert every value.

    :raises ConfigurationError: an unknown parameter (the allowed ones are listed), a missing
        required one, or a value that does not read as its kind or is out of bounds.
    """
    known = {spec.name: spec for spec in specs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise ConfigurationError(
            f"{owner}: unknown parameter(s) {', '.join(unknown)}; allowed: {allowed}"
        )
    values: dict[str, object] = {}
    for name, spec in known.items():
        text = given.get(name, spec.default)
        if text is None:
            if spec.required:
                example = f" (for example {name}={spec.example})" if spec.example else ""
                raise ConfigurationError(
                    f"{owner}: parameter {name!r} is required{example}: {spec.description}"
                )
            continue
        values[name] = spec.parse(text, owner=owner)
    return ParameterValues(values, owner=owner)


def _text(text: str, where: str) -> str:
    if not text:
        raise ConfigurationError(f"{where} must not be empty")
    return text


def _decimal(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or "e" in text.lower():
        raise ConfigurationError(
            f"{where} must be a decimal number such as 100 or 0.25; got {text!r}"
        )
    return value


def _integer(text: str, where: str) -> int:
    if not re.fullmatch(r"[+-]?\d{1,18}", text):
        raise ConfigurationError(f"{where} must be a whole number; got {text!r}")
    return int(text)


_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def _boolean(text: str, where: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{where} must be true or false; got {text!r}")


_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_UNITS["w"] = timedelta(weeks=1)
_DURATION = re.compile(r"(\d{1,6})\s*([mhdw])")


def parse_duration(text: str) -> timedelta | None:
    """``30m``, ``4h``, ``1d``, ``2w`` as a :class:`timedelta`; ``None`` when it does not read."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        return None
    return int(match.group(1)) * _UNITS[match.group(2)]


def format_duration(duration: timedelta) -> str:
    """The shortest ``parse_duration`` text for ``duration`` (``1d``, ``90m``)."""
    for unit in ("w", "d", "h", "m"):
        count, rest = divmod(duration, _UNITS[unit])
        if not rest and count:
            return f"{count}{unit}"
    return f"{duration.total_seconds():g}s"


def _duration(text: str, where: str) -> timedelta:
    value = parse_duration(text)
    if value is None:
        raise ConfigurationError(
            f"{where} must be a duration such as 30m, 4h, 1d or 1w; got {text!r}"
        )
    return value


_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")


def _symbol(text: str, where: str) -> str:
    if not _SYMBOL.fullmatch(text):
        raise ConfigurationError(f"{where}: {text!r} is not a symbol")
    return text


def _symbols(text: str, where: str) -> tuple[str, ...]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ConfigurationError(f"{where} must list at least one symbol (A,B,…)")
    return tuple(dict.fromkeys(_symbol(item, where) for item in items))


def _weights(text: str, where: str) -> MappingProxyType[str, Decimal]:
    weights: dict[str, Decimal] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        symbol, equals, weight = item.partition("=")
        if not equals:
            raise ConfigurationError(
                f"{where} must be SYMBOL=WEIGHT pairs such as BTC-USD=0.6,ETH-USD=0.4; got {item!r}"
            )
        symbol = _symbol(symbol.strip(), where)
        if symbol in weights:
            raise ConfigurationError(f"{where} names {symbol} twice")
        value = _decimal(weight.strip(), f"{where} ({symbol})")
        if not Decimal(0) <= value <= Decimal(1):
            raise ConfigurationError(
                f"{where}: the weight of {symbol} must be between 0 and 1; got {weight.strip()!r}"
            )
        weights[symbol] = value
    if not weights:
        raise ConfigurationError(f"{where} must name at least one SYMBOL=WEIGHT")
    return MappingProxyType(weights)


_READERS = {
    ParameterKind.TEXT: _text,
    ParameterKind.DECIMAL: _decimal,
    ParameterKind.INTEGER: _integer,
    ParameterKind.BOOLEAN: _boolean,
    ParameterKind.DURATION: _duration,
    ParameterKind.SYMBOLS: _symbols,
    ParameterKind.WEIGHTS: _weights,
}
