"""What a front end needs from the adapters besides the application: whether an error means
the database is down, and secrets derived from the data key. (The message catalogue is
:mod:`tradecore_adapters.i18n`.)

Re-exported by :mod:`tradecore_adapters.bootstrap`, the one door front ends use.
"""

from __future__ import annotations

import base64

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from tradecore_adapters.database import key_ring_of
from tradecore_adapters.settings import Settings
from tradecore_adapters.sqlalchemy.schema_version import DatabaseUnavailable

__all__ = ["derived_secret", "is_database_down"]


def is_database_down(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or dropped the connection (as
    opposed to a fault of the request): a front end answers it with "unavailable" (503)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DatabaseUnavailable | OperationalError | InterfaceError):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, ConnectionRefusedError | ConnectionResetError):
            return True
        current = current.__cause__ or current.__context__
    return False


def derived_secret(settings: Settings, purpose: str) -> str:
    """A secret for ``purpose`` derived from the newest data key (url-safe text): the same in
    every process of one installation, so several web servers agree on signed tokens.

    :raises SecretKeyError: the keys are unusable (see ``key_ring_of``).
    """
    raw = key_ring_of(settings).derive(purpose)
    return base64.urlsafe_b64encode(raw).decode("ascii")
