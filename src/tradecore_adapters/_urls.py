"""What every adapter setting that holds a server's URL must satisfy (Binance, Saxo, Telegram).

Credentials travel with the requests to those servers (API keys and signed queries, bearer and
refresh tokens, a bot token in the path), so plain ``http://`` is accepted only for a server on
this machine: a loopback address (``127.0.0.0/8``, ``::1``) or the name ``localhost``. Everything
else must use ``https://``. The check is on the URL as written: a name that merely resolves to a
loopback address (``127.1``, ``my-laptop``) is not trusted, because name resolution can change.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from tradecore.errors import ConfigurationError

__all__ = ["LOOPBACK_NAMES", "checked_server_url", "is_loopback_host"]

LOOPBACK_NAMES = "127.0.0.1, ::1, localhost"
"""How a refusal names the hosts where plain http is accepted."""


def is_loopback_host(host: str) -> bool:
    """``True`` when ``host`` (as :func:`urllib.parse.urlsplit` gives it: lower case, IPv6
    without brackets) is ``localhost`` or a loopback IP address (IPv4-mapped ones included)."""
    name = host.strip().lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def checked_server_url(raw: str, *, owner: str, setting: str, example: str) -> str:
    """``raw`` trimmed and without a trailing slash, once it is a usable server URL.

    :param owner: who the setting belongs to, opening every message (``"binance"``).
    :param setting: the setting's name, quoted in every message.
    :param example: a good value, shown when ``raw`` is not an http(s) URL at all.
    :raises ConfigurationError: not an ``http``/``https`` URL with a host; a user, password,
        query or fragment in it; or plain ``http`` to a host other than this machine.
    """
    text = raw.strip()
    if "@" in text:  # checked first: a URL with a password is never quoted back
        raise ConfigurationError(f"{owner}: setting {setting!r} must not carry a user or password")
    parts = urlsplit(text)
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError(
            f"{owner}: setting {setting!r} must be an http(s) URL such as {example}; got {raw!r}"
        )
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ConfigurationError(
            f"{owner}: setting {setting!r} must not have a query or a fragment; got {raw!r}"
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigurationError(
            f"{owner}: setting {setting!r} must use https:// for a remote host (http:// is only "
            f"allowed on this machine: {LOOPBACK_NAMES}); got {text}"
        )
    return text.rstrip("/")
