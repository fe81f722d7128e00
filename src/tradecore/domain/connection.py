"""A user's link to one broker: :class:`BrokerConnection` and its :class:`OAuthTokens`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from attrs import define, field, frozen

from tradecore.domain._checks import (
    frozen_secrets,
    frozen_settings,
    non_empty,
    optional_utc,
    utc,
)
from tradecore.domain.ids import new_id
from tradecore.domain.secret import Secret
from tradecore.errors import DomainError

__all__ = ["TOKEN_REFRESH_MARGIN", "BrokerConnection", "OAuthTokens"]

TOKEN_REFRESH_MARGIN = timedelta(minutes=5)
"""An OAuth access token expiring within this margin is renewed before it is used: the one
margin of the cycle, the command line, the token store and the brokers' own clients."""


def _secret_or_none(instance: object, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, Secret):
        raise DomainError(f"{attribute.name} must be a Secret")


def _version(instance: object, attribute: Any, value: Any) -> None:
    if type(value) is not int or value < 0:
        raise DomainError(f"{attribute.name} must be a non-negative int")


def _secret(instance: object, attribute: Any, value: Any) -> None:
    if not isinstance(value, Secret):
        raise DomainError(f"{attribute.name} must be a Secret")


def _nothing_if_unreadable(instance: BrokerConnection, attribute: Any, value: Any) -> None:
    if type(value) is not bool:
        raise DomainError(f"{attribute.name} must be a bool")
    if value and (instance.secrets or instance.tokens is not None):
        raise DomainError("a connection whose secrets are unreadable holds no secrets or tokens")


@frozen(kw_only=True)
class OAuthTokens:
    """The OAuth state of a connection. Tokens are :class:`Secret`; times are absolute UTC.

    :param access_expires_at: when the access token stops working.
    :param refresh_expires_at: when the refresh token stops working, when the broker says.
    :param version: how many times the tokens were replaced (login or refresh) since the
        connection was created; a refresher compares it to see whether another process refreshed
        while it waited for the lock.
    :param login_required: why a person must log in again (the broker refused the refresh token,
        or it expired); ``None`` while the tokens can be refreshed. Once set, nothing calls the
        broker's token endpoint again until a new login.
    :param rotating_since: when a refresh of these tokens was recorded as started and has not
        saved its new tokens yet (committed before the token endpoint is called). Their refresh
        token may then be spent at the broker: nothing presents it again unless the process
        that started the refresh knows it got no answer (docs/brokers/saxo.md, "Staying logged
        in"). ``None`` when no refresh is under way.
    :param rotating_by: which process recorded ``rotating_since`` (``host:pid:tag``), so that a
        process on the same host can tell it has stopped; ``None`` when unknown.
    """

    access_token: Secret = field(validator=_secret)
    refresh_token: Secret | None = field(default=None, validator=_secret_or_none)
    access_expires_at: datetime = field(converter=utc)
    refresh_expires_at: datetime | None = field(default=None, converter=optional_utc)
    version: int = field(default=0, validator=_version)
    login_required: str | None = None
    rotating_since: datetime | None = field(default=None, converter=optional_utc)
    rotating_by: str | None = None

    def needs_refresh(self, now: datetime, *, margin: timedelta = TOKEN_REFRESH_MARGIN) -> bool:
        """Return ``True`` when the access token expires within ``margin`` of ``now``."""
        return utc(now) + margin >= self.access_expires_at

    def refresh_due(self, now: datetime, *, margin: timedelta = TOKEN_REFRESH_MARGIN) -> bool:
        """Return ``True`` when the tokens must be renewed before use: a person has to log in
        again (the refresh then says so), or the access token expires within ``margin``."""
        return self.login_required is not None or self.needs_refresh(now, margin=margin)

    def refresh_expired(self, now: datetime) -> bool:
        """Return ``True`` when the refresh token is known to be past its lifetime (or absent)."""
        if self.refresh_token is None:
            return True
        return self.refresh_expires_at is not None and utc(now) >= self.refresh_expires_at


@define(kw_only=True)
class BrokerConnection:
    """One user's credentials and settings for one broker.

    :param broker: the broker plugin's name (``paper``, ``binance``, ``saxo``…).
    :param name: the user's name for this connection, unique per user.
    :param settings: non-secret settings (environment, base URL override, symbols to sync…).
    :param secrets: API keys and the like, each a :class:`Secret`.
    :param tokens: OAuth state for brokers that use OAuth.
    :param active: inactive connections are kept but not synced.
    :param secrets_unreadable: ``True`` when the repository holds secrets (or OAuth tokens) for
        this connection that its keys cannot decrypt, typically after the secret key was lost;
        ``secrets`` and ``tokens`` are then empty. Such a connection can be listed, renamed,
        disabled and removed (the stored ciphertexts are kept until new secrets replace them);
        a broker that needs secrets refuses to be built from it.
    """

    id: str = field(factory=new_id, validator=non_empty)
    user_id: str = field(validator=non_empty)
    broker: str = field(validator=non_empty)
    name: str = field(validator=non_empty)
    settings: Mapping[str, str] = field(factory=dict, converter=frozen_settings)
    secrets: Mapping[str, Secret] = field(factory=dict, converter=frozen_secrets)
    tokens: OAuthTokens | None = None
    active: bool = True
    created_at: datetime = field(converter=utc)
    secrets_unreadable: bool = field(default=False, validator=_nothing_if_unreadable)

    def secret_values(self) -> tuple[str, ...]:
        """Every secret value the connection holds (secrets and OAuth tokens), to scrub from
        text that might quote one. Never print or log what this returns."""
        values = [secret.reveal() for secret in self.secrets.values()]
        if self.tokens is not None:
            values.append(self.tokens.access_token.reveal())
            if self.tokens.refresh_token is not None:
                values.append(self.tokens.refresh_token.reveal())
        return tuple(value for value in values if value)
