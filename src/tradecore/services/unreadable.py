"""What a connection or a notification target whose secrets cannot be decrypted may still do.

After the secret key is lost, the repository reads such a connection or target with
``secrets_unreadable`` set and no secrets (see :class:`~tradecore.domain.BrokerConnection`). It
can still be listed, disabled and removed. A plugin that declares no secrets (the paper broker,
the console) never needed them and keeps working; any other refuses to be built from it, with
one sentence saying what to do, before anything calls the broker or the notifier.
"""

from __future__ import annotations

from tradecore.domain import BrokerConnection
from tradecore.errors import ConfigurationError
from tradecore.ports import BrokerFactory, NotifierFactory

__all__ = [
    "SecretsUnreadable",
    "check_connection_readable",
    "needs_secrets",
    "unreadable_target_problem",
]

_WHY = "its secrets cannot be decrypted with the current key (the key that sealed them is lost)"


class SecretsUnreadable(ConfigurationError):
    """A connection's or target's stored secrets cannot be decrypted with the keys at hand."""


def needs_secrets(factory: BrokerFactory | NotifierFactory) -> bool:
    """``True`` when the plugin declares secrets or an OAuth login, so it cannot work from a
    connection or target whose secrets are unreadable."""
    return bool(factory.secrets) or getattr(factory, "login", None) is not None


def check_connection_readable(connection: BrokerConnection, factory: BrokerFactory) -> None:
    """Refuse to build the broker of ``connection`` when its secrets are unreadable and the
    broker needs secrets.

    :raises SecretsUnreadable: the message says how to add them again.
    """
    if not connection.secrets_unreadable or not needs_secrets(factory):
        return
    then = (
        f", then log in again with `tradecore broker login {connection.name}`"
        if factory.login is not None
        else ""
    )
    raise SecretsUnreadable(
        f"connection {connection.name!r}: {_WHY}: add them again with "
        f"`tradecore broker secrets {connection.name}`{then}, or restore the lost key"
    )


def unreadable_target_problem(target_name: str) -> str:
    """Why the notifier of a target with unreadable secrets is not built (one sentence)."""
    return (
        f"notification target {target_name!r}: {_WHY}: remove it and add it again with "
        "`tradecore notify add`, or restore the lost key"
    )
