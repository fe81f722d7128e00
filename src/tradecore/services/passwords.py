"""Use cases on passwords: set one, and log in with a name and a password.

Hashing is the :class:`~tradecore.ports.PasswordHasher`'s (Argon2id in the shipped adapter); the
rule for passwords is :func:`~tradecore.domain.checked_password`. A login that fails waits
(:attr:`LoginPolicy.failure_delay`, on the injected clock) and is counted per name and per client
address in the deployment's :class:`~tradecore.ports.SharedLimits`, so every web server sharing
the database sees the same counts: the :attr:`LoginPolicy.max_failures`-th failure within one
window locks that name, or that address, for :attr:`LoginPolicy.lockout`. While locked, even the
right password is refused. Unknown names are counted and locked exactly like known ones, and a
password is checked against a hash in every case, so neither the answer nor its delay tells
whether a name exists. See ``docs/accounts.md``.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from weakref import WeakKeyDictionary

from tradecore.domain import MAX_PASSWORD_LENGTH, LoginPolicy, User, checked_password
from tradecore.errors import ConfigurationError, LoginRefused, NotFound
from tradecore.ports import PasswordHasher, SharedLimits
from tradecore.services.context import ServiceContext

__all__ = ["REFUSED", "Passwords", "login_keys"]

REFUSED = "wrong name or password"
"""The one message of a refused login (the same for an unknown name)."""

_LOCKED = "too many failed logins; try again later"
_NO_LIMIT = 2**62
_decoys: WeakKeyDictionary[PasswordHasher, str] = WeakKeyDictionary()


def login_keys(name: str, address: str) -> tuple[str, str]:
    """The shared-limits keys that count failed logins of ``name`` (case-insensitively) and
    from ``address``. They hold digests, not the name or address an attacker typed: a key has
    a bounded length and no secret."""
    return (
        "login:name:" + hashlib.sha256(name.strip().casefold().encode("utf-8")).hexdigest(),
        "login:address:" + hashlib.sha256(address.strip().encode("utf-8")).hexdigest(),
    )


def _window_start(now: datetime, window: timedelta) -> datetime:
    length = window.total_seconds()
    return datetime.fromtimestamp(now.timestamp() // length * length, UTC)


class Passwords:
    """Set and check users' passwords. Build it with the application's :class:`ServiceContext`
    (which must have a ``password_hasher`` and ``limits``)."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context
        self._policy: LoginPolicy = context.login_policy

    @property
    def _hasher(self) -> PasswordHasher:
        hasher = self._context.password_hasher
        if hasher is None:
            raise ConfigurationError("no password hasher is configured")
        return hasher

    @property
    def _limits(self) -> SharedLimits:
        limits = self._context.limits
        if limits is None:
            raise ConfigurationError("no shared limits are configured to count failed logins")
        return limits

    async def set_password(self, user_id: str, password: str) -> None:
        """Give the user ``password`` (checked by :func:`checked_password`), stored hashed.

        :raises DomainError: the password breaks the rule (the message never holds it).
        :raises NotFound: there is no such user.
        """
        # Argon2 takes tens of milliseconds of CPU: in a thread, so a web server's other
        # requests go on meanwhile.
        hashed = await asyncio.to_thread(self._hasher.hash, checked_password(password))
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.set_password_hash(user_id, hashed)
            await uow.commit()

    async def has_password(self, user_id: str) -> bool:
        """Whether the user has a password. :raises NotFound: there is no such user."""
        async with self._context.repository.unit_of_work() as uow:
            return await uow.users.password_hash(user_id) is not None

    async def authenticate(self, name: str, password: str, *, address: str) -> User:
        """The user called ``name`` when ``password`` is theirs.

        A successful login replaces a hash made with older parameters.

        :param address: the client's address (the web server's peer, or ``cli``); failures are
            counted per address as well as per name.
        :raises LoginRefused: the name is unknown, has no password, the password is wrong, or
            the name or the address is locked out (then ``retry_after`` says until when).
        """
        now = self._context.clock.now()
        keys = login_keys(name, address)
        for key in keys:
            block = await self._limits.blocked(key, now=now)
            if block is not None:
                raise LoginRefused(_LOCKED, retry_after=block.until)
        user, hashed = await self._stored(name)
        hasher = self._hasher
        if len(password) > MAX_PASSWORD_LENGTH:
            matches = False  # never hash an unbounded input
        elif hashed is None:
            # the same work as for a real user
            await asyncio.to_thread(hasher.verify, self._decoy(hasher), password)
            matches = False
        else:
            matches = await asyncio.to_thread(hasher.verify, hashed, password)
        if user is None or hashed is None or not matches:
            await self._failed(keys, now)
            raise LoginRefused(REFUSED)
        if hasher.needs_rehash(hashed):
            await self.set_password(user.id, password)
        return user

    async def _stored(self, name: str) -> tuple[User | None, str | None]:
        async with self._context.repository.unit_of_work() as uow:
            try:
                user = await uow.users.get_by_name(name.strip())
            except NotFound:
                return None, None
            return user, await uow.users.password_hash(user.id)

    async def _failed(self, keys: tuple[str, ...], now: datetime) -> None:
        policy = self._policy
        start = _window_start(now, policy.window)
        for key in keys:
            failures = await self._limits.reserve(
                key, window_start=start, window=policy.window, cost=1, limit=_NO_LIMIT
            )
            if failures is not None and failures >= policy.max_failures:
                await self._limits.block(key, until=now + policy.lockout, reason="logins")
        await self._context.clock.sleep(policy.failure_delay.total_seconds())

    @staticmethod
    def _decoy(hasher: PasswordHasher) -> str:
        decoy = _decoys.get(hasher)
        if decoy is None:
            decoy = _decoys[hasher] = hasher.hash("not a password anyone has")
        return decoy
