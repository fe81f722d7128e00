"""How adapters are built: the factories plugins register, and what they are given.

A plugin never builds anything at import: it returns factories from its hooks, and tradecore calls
``create`` when it needs an adapter for a connection, a notifier target or a strategy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TextIO

from attrs import field, frozen

from tradecore.domain import BrokerConnection, Secret, StrategyConfig
from tradecore.domain._checks import freeze_mapping, non_empty
from tradecore.errors import ConfigurationError
from tradecore.ports.broker import BrokerPort
from tradecore.ports.cache import BrokerCache
from tradecore.ports.clock import Clock
from tradecore.ports.limits import SharedLimits
from tradecore.ports.login import OAuthLogin
from tradecore.ports.notifier import NotifierPort
from tradecore.ports.parameters import ParameterValues, StrategyParameter, parse_parameters
from tradecore.ports.strategy import Strategy
from tradecore.ports.tokens import TokenStore
from tradecore.ports.venues import VenueStore

__all__ = [
    "BrokerContext",
    "BrokerFactory",
    "NotifierContext",
    "NotifierFactory",
    "SecretSpec",
    "SettingSpec",
    "StrategyFactory",
    "check_settings",
]


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@frozen(kw_only=True)
class SettingSpec:
    """A non-secret setting an adapter understands.

    :param choices: the allowed values, when the setting is an enumeration.
    :param env_var: the environment variable the command line reads the setting from when it is
        not given, if any.
    """

    name: str = field(validator=non_empty)
    description: str
    default: str | None = None
    choices: tuple[str, ...] = field(default=(), converter=_strings)
    required: bool = False
    env_var: str | None = None


@frozen(kw_only=True)
class SecretSpec:
    """A secret an adapter needs (API key, secret, token).

    :param env_var: the environment variable the command line reads it from, if any.
    """

    name: str = field(validator=non_empty)
    description: str
    env_var: str | None = None
    required: bool = True


def _setting_specs(value: Iterable[SettingSpec]) -> tuple[SettingSpec, ...]:
    return tuple(value)


def _secret_specs(value: Iterable[SecretSpec]) -> tuple[SecretSpec, ...]:
    return tuple(value)


def check_settings(
    specs: tuple[SettingSpec, ...], settings: Mapping[str, str], *, owner: str
) -> dict[str, str]:
    """Validate ``settings`` against ``specs`` and return them with defaults filled in.

    :raises ConfigurationError: an unknown setting, a value outside its choices, or a missing one.
    """
    known = {spec.name: spec for spec in specs}
    unknown = sorted(set(settings) - set(known))
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise ConfigurationError(
            f"{owner}: unknown setting(s) {', '.join(unknown)}; allowed: {allowed}"
        )
    resolved: dict[str, str] = {}
    for spec in specs:
        value = settings.get(spec.name, spec.default)
        if value is None:
            if spec.required:
                raise ConfigurationError(f"{owner}: setting {spec.name!r} is required")
            continue
        if spec.choices and value not in spec.choices:
            raise ConfigurationError(
                f"{owner}: setting {spec.name!r} must be one of {', '.join(spec.choices)}; "
                f"got {value!r}"
            )
        resolved[spec.name] = value
    return resolved


@frozen(kw_only=True)
class BrokerContext:
    """What tradecore hands a broker factory besides the connection.

    :param clock: the clock to read time from.
    :param http_client: a shared ``httpx.AsyncClient`` to use instead of making one (tests pass one
        over ``httpx.MockTransport``); typed loosely because the core never imports httpx.
    :param tokens: the connection's OAuth tokens: read them with ``current()`` and renew them
        with ``refresh()``, which commits the rotated tokens before returning them and lets one
        refresh per connection run at a time (see :class:`~tradecore.ports.TokenStore`).
    :param venue: where a simulated broker keeps its exchange's records for the connection
        (orders, balances, fills), in the database with the rest of the ledger; see
        :class:`~tradecore.ports.VenueStore`.
    :param limits: the limits every process of the deployment obeys together (a ban, a
        ``Retry-After`` pause, a request-weight budget per IP, an order rate per account or
        session; see :class:`~tradecore.ports.SharedLimits`). ``None``: the adapter keeps its
        own, within this process only.
    :param cache: this broker type's :class:`~tradecore.ports.BrokerCache`, owned by the
        process and shared by every connection and cycle of the broker: the place for what an
        adapter would otherwise load again every cycle (a venue's markets), keyed by venue,
        never by connection. ``None`` outside an application: load it per adapter.
    """

    clock: Clock
    http_client: object | None = None
    tokens: TokenStore | None = None
    venue: VenueStore | None = None
    limits: SharedLimits | None = None
    cache: BrokerCache | None = None


@frozen(kw_only=True)
class BrokerFactory:
    """A broker a plugin provides.

    :param name: unique across all installed plugins; what :attr:`BrokerConnection.broker` names.
    :param create: build the adapter for one connection; must not do I/O (connect lazily).
    :param login: how a person logs a connection in, for brokers whose authorization needs a
        browser (OAuth); ``tradecore broker login`` uses it.
    """

    name: str = field(validator=non_empty)
    description: str
    create: Callable[[BrokerConnection, BrokerContext], BrokerPort]
    settings: tuple[SettingSpec, ...] = field(default=(), converter=_setting_specs)
    secrets: tuple[SecretSpec, ...] = field(default=(), converter=_secret_specs)
    login: OAuthLogin | None = None


@frozen(kw_only=True)
class NotifierContext:
    """What a notifier factory is given.

    :param settings: the target's non-secret settings (chat id, language…).
    :param secrets: the target's secrets (bot token…).
    :param stream: where a terminal notifier writes; ``None`` means standard output.
    :param name: the target's name, which the run's notify step shows; ``None`` for a notifier
        that is not a user's target (the console).
    :param limits: the limits every process of the deployment obeys together (Telegram's
        messages per bot and per chat; see :class:`~tradecore.ports.SharedLimits`). ``None``:
        the notifier paces itself within this process only.
    """

    clock: Clock
    settings: Mapping[str, str] = field(factory=dict, converter=freeze_mapping)
    secrets: Mapping[str, Secret] = field(factory=dict, converter=freeze_mapping)
    stream: TextIO | None = None
    name: str | None = None
    limits: SharedLimits | None = None


@frozen(kw_only=True)
class NotifierFactory:
    """A notifier a plugin provides."""

    name: str = field(validator=non_empty)
    description: str
    create: Callable[[NotifierContext], NotifierPort]
    settings: tuple[SettingSpec, ...] = field(default=(), converter=_setting_specs)
    secrets: tuple[SecretSpec, ...] = field(default=(), converter=_secret_specs)


def _parameters(value: Iterable[StrategyParameter]) -> tuple[StrategyParameter, ...]:
    return tuple(value)


@frozen(kw_only=True)
class StrategyFactory:
    """A strategy type a plugin provides.

    :param name: unique across all installed plugins; what :attr:`StrategyConfig.strategy_type`
        names.
    :param parameters: the parameters it accepts, typed; a strategy is added only when they
        validate (see :func:`~tradecore.ports.parse_parameters`).
    :param create: build the strategy for one configuration from its validated parameters; no
        I/O. It may raise :class:`~tradecore.errors.ConfigurationError` for a combination of
        parameters that cannot work (weights above 100%…), which refuses the strategy when it
        is added.
    """

    name: str = field(validator=non_empty)
    description: str
    create: Callable[[StrategyConfig, ParameterValues], Strategy]
    parameters: tuple[StrategyParameter, ...] = field(default=(), converter=_parameters)

    def build(self, config: StrategyConfig) -> Strategy:
        """Validate ``config``'s parameters and build its strategy.

        :raises ConfigurationError: a parameter is unknown, missing, malformed or out of bounds,
            or ``create`` refused the combination.
        """
        owner = f"strategy {config.name!r} ({self.name})"
        values = parse_parameters(self.parameters, config.parameters, owner=owner)
        return self.create(config, values)
