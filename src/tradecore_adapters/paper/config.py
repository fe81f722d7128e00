"""The paper broker's settings, parsed from a connection into a frozen :class:`PaperConfig`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from attrs import frozen

from tradecore.errors import ConfigurationError
from tradecore.ports.factories import SettingSpec, check_settings

__all__ = ["MAX_HISTORY_DAYS", "SETTINGS", "PaperConfig"]

MAX_HISTORY_DAYS = 366
"""The longest simulated history; its fills are replayed whenever a broker is built."""

_OWNER = "paper broker"
_MAX_CASH = Decimal("1e12")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        name="seed",
        description="Integer that fixes the simulated prices and history; same seed, same market.",
        default="0",
    ),
    SettingSpec(
        name="currency",
        description="Three-letter code of the account and of every instrument's price.",
        default="USD",
    ),
    SettingSpec(
        name="starting_cash",
        description="Cash the account holds before its simulated history begins.",
        default="100000",
    ),
    SettingSpec(
        name="history_days",
        description=f"Days of simulated trading before the connection was created (0-{MAX_HISTORY_DAYS}).",
        default="1",
    ),
    SettingSpec(
        name="activity_minutes",
        description="Minutes between two simulated fills of the account's history (5-10080).",
        default="60",
    ),
)
"""What a ``paper`` connection accepts; no secrets."""


@frozen(kw_only=True)
class PaperConfig:
    """How one paper connection simulates its market and account.

    :param seed: fixes the prices and the history: two connections with the same seed and
        creation time see the same market and the same fills.
    :param currency: the account's currency, also the quote currency of every instrument.
    :param starting_cash: the cash held at the start of the simulated history.
    :param history_days: how long before the connection's creation the history starts.
    :param activity_minutes: the interval between two simulated fills.
    """

    seed: int = 0
    currency: str = "USD"
    starting_cash: Decimal = Decimal(100000)
    history_days: int = 1
    activity_minutes: int = 60

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> PaperConfig:
        """Validate a connection's settings and build the configuration.

        :raises ConfigurationError: an unknown setting or a value that cannot be used.
        """
        values = check_settings(SETTINGS, settings, owner=_OWNER)
        currency = values["currency"].strip().upper()
        if not _CURRENCY.match(currency):
            raise ConfigurationError(
                f"{_OWNER}: setting 'currency' must be a three-letter code such as USD; "
                f"got {values['currency']!r}"
            )
        return cls(
            seed=_integer(values, "seed"),
            currency=currency,
            starting_cash=_cash(values["starting_cash"]),
            history_days=_integer(values, "history_days", low=0, high=MAX_HISTORY_DAYS),
            activity_minutes=_integer(values, "activity_minutes", low=5, high=7 * 24 * 60),
        )


def _integer(
    values: Mapping[str, str], name: str, *, low: int | None = None, high: int | None = None
) -> int:
    text = values[name].strip()
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(
            f"{_OWNER}: setting {name!r} must be a whole number; got {values[name]!r}"
        ) from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigurationError(
            f"{_OWNER}: setting {name!r} must be between {low} and {high}; got {value}"
        )
    return value


def _cash(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0 or value > _MAX_CASH:
        raise ConfigurationError(
            f"{_OWNER}: setting 'starting_cash' must be an amount from 0 to 1000000000000 such as 100000; "
            f"got {text!r}"
        )
    return value.quantize(Decimal("0.01"))
