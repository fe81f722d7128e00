"""Accounts: the rule for passwords, the lockout policy of logins, and API tokens with scopes.

A password is checked here and hashed by an adapter (:class:`tradecore.ports.PasswordHasher`);
an API token is a random string shown once whose SHA-256 digest alone is stored. See
``docs/accounts.md``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from attrs import define, field, frozen

from tradecore.domain._checks import non_empty, optional_utc, utc
from tradecore.domain.ids import new_id
from tradecore.errors import DomainError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MAX_TOKEN_DAYS",
    "MIN_PASSWORD_LENGTH",
    "TOKEN_PREFIX",
    "ApiToken",
    "LoginPolicy",
    "Scope",
    "checked_password",
    "checked_scopes",
    "new_token_secret",
    "token_digest",
]

MIN_PASSWORD_LENGTH = 12
"""The shortest password, in characters."""

MAX_PASSWORD_LENGTH = 1024
"""The longest password, in characters (hashing an unbounded input is a denial of service)."""

TOKEN_PREFIX = "tc_"
"""What every API token starts with, so a leaked one is recognisable (secret scanners)."""

MAX_TOKEN_DAYS = 3650
"""The longest lifetime of an API token, in days."""


def checked_password(password: str) -> str:
    """``password`` unchanged, once it follows the rule: :data:`MIN_PASSWORD_LENGTH` to
    :data:`MAX_PASSWORD_LENGTH` characters and not only whitespace.

    The message never holds the password.

    :raises DomainError: it breaks the rule.
    """
    if not isinstance(password, str):
        raise DomainError("a password must be text")
    if not password.strip():
        raise DomainError("a password must not be empty or only whitespace")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"a password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError(f"a password must be at most {MAX_PASSWORD_LENGTH} characters long")
    return password


@frozen(kw_only=True)
class LoginPolicy:
    """How failed logins are slowed and locked out.

    Failures are counted per name and per client address in fixed windows of ``window``
    (starting at multiples of it since the epoch); the ``max_failures``-th failure in one
    window locks that name, or that address, for ``lockout``. Every failure also waits
    ``failure_delay`` before answering.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    failure_delay: timedelta = timedelta(seconds=1)


class Scope(StrEnum):
    """What an API token may do: read (status, logs, history), write (start, stop,
    configuration), execute (manual cycles and orders); metrics (the Prometheus scrape of
    ``GET /metrics`` and nothing else: an administrator's token, never combined with
    another scope)."""

    READ = "read"
    WRITE = "write"
    EXECUTE = "execute"
    METRICS = "metrics"


def checked_scopes(values: object) -> frozenset[Scope]:
    """The scopes named by ``values``: at least one of ``read``, ``write`` and ``execute``, or
    ``metrics`` alone (a scraper's token can read nothing else).

    :raises DomainError: none given, one is unknown, or ``metrics`` comes with another.
    """
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise DomainError("scopes must be a collection of read, write, execute or metrics")
    scopes: set[Scope] = set()
    for value in values:
        try:
            scopes.add(Scope(str(value).strip().lower()))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise DomainError(f"unknown scope {value!r} (known: {known})") from None
    if not scopes:
        raise DomainError("an API token needs at least one scope (read, write or execute)")
    if Scope.METRICS in scopes and len(scopes) > 1:
        raise DomainError("the metrics scope cannot be combined with another scope")
    return frozenset(scopes)


def new_token_secret() -> str:
    """A new API token: :data:`TOKEN_PREFIX` and 32 random bytes, URL-safe base64."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The SHA-256 digest (hex) of ``token``: what is stored and looked up.

    A token holds 256 random bits, so a fast hash is enough: no guess can be tried against
    the digest in any useful time, unlike a password, which needs a slow hash.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@define(kw_only=True)
class ApiToken:
    """A user's API token as stored: never the token, only its digest (hidden from ``repr``).

    :param name: a label the user chose (``ci``), or ``None``.
    :param expires_at: after this the token is refused; ``None``: it does not expire.
    """

    id: str = field(factory=new_id, validator=non_empty)
    user_id: str = field(validator=non_empty)
    digest: str = field(validator=non_empty, repr=False)
    scopes: frozenset[Scope] = field(converter=checked_scopes)
    name: str | None = None
    created_at: datetime = field(converter=utc)
    last_used_at: datetime | None = field(default=None, converter=optional_utc)
    expires_at: datetime | None = field(default=None, converter=optional_utc)

    def expired(self, now: datetime) -> bool:
        """Whether the token is past its expiry at ``now``."""
        return self.expires_at is not None and now >= self.expires_at
