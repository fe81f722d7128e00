"""Every exception tradecore raises on purpose.

Code decides what to do from an exception's *class*, never by parsing its message. The tree::

    TradecoreError
    ├── DomainError                  a value breaks a rule of the domain (float money, naive time…)
    ├── ConfigurationError           settings, environment or a command-line value is unusable
    ├── BrokerError                  anything a broker adapter reports (carries ``broker``)
    │   ├── BrokerUnavailable        transient: network, 5xx, rate limit; safe to retry a *read*
    │   │   └── RateLimited          the broker asked us to wait (``retry_after`` seconds)
    │   ├── AuthenticationFailed     credentials rejected or missing
    │   │   └── ReauthorizationRequired   a person must log in again (e.g. OAuth ``invalid_grant``)
    │   ├── OrderRejected            the broker definitively refused an order (never placed)
    │   │   └── InsufficientFunds
    │   ├── OrderOutcomeUnknown      an order request may or may not have been placed;
    │   │   │                        resolve it by looking up ``client_order_id``, never by resending
    │   │   └── OrderExists          the broker already holds an order with this client id
    │   ├── OrderNotFound            no order with that id at the broker
    │   ├── InstrumentNotFound       the broker does not know that instrument
    │   └── MalformedResponse        the broker answered something we cannot understand
    ├── RepositoryError              the database refused or returned unusable data
    │   ├── NotFound                 no such row for this user
    │   └── AlreadyExists            a row with that natural key exists
    ├── LeaseLost                    this process lost the lease of the cycle it runs
    ├── CycleBusy                    another scheduler runs this user's cycle right now
    ├── NotificationError            a notifier could not deliver a digest
    ├── OrderBlocked                 a risk rule (``rule``) forbids the order; nothing was recorded
    ├── LoginRefused                 a name and password (or an API token) were not accepted; the
    │                                message never says whether the name exists
    └── PluginError                  a plugin is broken, duplicated, or unknown

Adapters translate vendor exceptions at their edge with ``raise … from exc`` so the cause is kept
for debugging while callers only ever see this tree. No message here ever contains a secret.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "AlreadyExists",
    "AuthenticationFailed",
    "BrokerError",
    "BrokerUnavailable",
    "ConfigurationError",
    "CycleBusy",
    "DomainError",
    "InstrumentNotFound",
    "InsufficientFunds",
    "LeaseLost",
    "LoginRefused",
    "MalformedResponse",
    "NotFound",
    "NotificationError",
    "OrderBlocked",
    "OrderExists",
    "OrderNotFound",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "PluginError",
    "RateLimited",
    "ReauthorizationRequired",
    "RepositoryError",
    "TradecoreError",
]


class TradecoreError(Exception):
    """Base class of every error tradecore raises on purpose."""


class DomainError(TradecoreError, ValueError):
    """A value breaks a rule of the domain (a float amount, a naive datetime, a bad frequency…)."""


class ConfigurationError(TradecoreError):
    """Settings, the environment or a command-line value cannot be used as given."""


class BrokerError(TradecoreError):
    """Something a broker adapter reports.

    :param message: what happened, in words a user understands; never contains a secret.
    :param broker: the broker's plugin name (``"binance"``, ``"paper"``…).
    :param code: the broker's own error code, when it gave one.
    """

    def __init__(self, message: str, *, broker: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.broker = broker
        self.code = code


class BrokerUnavailable(BrokerError):
    """A transient failure (network, 5xx, maintenance). Retrying an idempotent read is safe."""


class RateLimited(BrokerUnavailable):
    """The broker asked us to slow down.

    :param retry_after: seconds the broker asked us to wait, when it said.
    """

    def __init__(
        self,
        message: str,
        *,
        broker: str = "",
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, broker=broker, code=code)
        self.retry_after = retry_after


class AuthenticationFailed(BrokerError):
    """The broker rejected the credentials, or they are missing."""


class ReauthorizationRequired(AuthenticationFailed):
    """The stored authorization is dead; a person must log in again."""


class OrderRejected(BrokerError):
    """The broker definitively refused an order: it was never placed."""


class InsufficientFunds(OrderRejected):
    """The account lacks the balance or margin for the order."""


class OrderOutcomeUnknown(BrokerError):
    """An order request may or may not have reached the market.

    Never resend: look the order up by ``client_order_id``.

    :param client_order_id: the client id the request carried.
    """

    def __init__(
        self,
        message: str,
        *,
        client_order_id: str,
        broker: str = "",
        code: str | None = None,
    ) -> None:
        super().__init__(message, broker=broker, code=code)
        self.client_order_id = client_order_id


class OrderExists(OrderOutcomeUnknown):
    """The broker already holds an order with this client id (Binance: -2010 'Duplicate order
    sent.').

    It was placed, by this request or an earlier one: look it up by client id; never send it
    again.
    """


class OrderNotFound(BrokerError):
    """The broker has no order with the given id."""


class InstrumentNotFound(BrokerError):
    """The broker does not know the instrument."""


class MalformedResponse(BrokerError):
    """The broker answered with a payload we cannot map to the domain."""


class RepositoryError(TradecoreError):
    """The database refused an operation or returned unusable data."""


class NotFound(RepositoryError):
    """No such row exists for this user."""


class AlreadyExists(RepositoryError):
    """A row with the same natural key already exists."""


class LeaseLost(TradecoreError):
    """This process no longer holds the lease of the cycle it runs (another scheduler took it
    over after it expired): the cycle stops before its next side effect."""


class CycleBusy(TradecoreError):
    """Another scheduler holds the user's cycle right now; try again when it ends."""


class NotificationError(TradecoreError):
    """A notifier could not deliver a digest."""


class OrderBlocked(TradecoreError):
    """A risk rule forbids the order; it was neither recorded nor sent.

    :param rule: the rule's name (``max_order_notional``, ``kill_switch``…), as
        :class:`~tradecore.domain.RiskRule` values.
    """

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class LoginRefused(TradecoreError):
    """A login (name and password) or an API token was refused: wrong, unknown, expired,
    revoked, or too many failures lately. The message is the same whether or not the name
    exists; ``retry_after`` (a UTC datetime) is set only when the name or the address is locked
    out for a while, which happens alike to names that do not exist.
    """

    def __init__(self, message: str, *, retry_after: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PluginError(TradecoreError):
    """A plugin is broken, registers a duplicate name, or is unknown."""
