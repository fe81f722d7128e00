"""The :class:`Secret` wrapper: a value that never shows itself by accident, and how short a
secret may be."""

from __future__ import annotations

from typing import Any, NoReturn, final

from tradecore.errors import DomainError

__all__ = ["MIN_SECRET_LENGTH", "Secret", "check_secret_length"]

_MASK = "**********"

MIN_SECRET_LENGTH = 8
"""The fewest characters a secret may have when it is added.

Real ones are far longer (a Binance API key or HMAC secret: 64 characters; a Saxo AppSecret: 32;
a Telegram bot token: about 45), and every message that could quote a secret is masked: a value
of a character or two would be masked inside ordinary words (``Bro**********erError``). So a
shorter value is refused when it is added, and masking functions mask one that is already
stored (added before this rule) only where it stands as a whole word.
"""


@final
class Secret:
    """Hold a secret string (API secret, token, password) so it cannot leak by accident.

    ``repr``, ``str``, ``format`` and f-strings all show ``**********``; pickling is refused;
    only :meth:`reveal` returns the value, so every use of it is greppable.

    :param value: the secret text; must not be empty.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        if not value:
            raise DomainError("a secret must not be empty")
        self._value = value

    def reveal(self) -> str:
        """Return the secret value. Call it only where the value is sent to its owner."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, format_spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return self._value == other._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return True

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled; store it through the repository's encryption")

    def __getstate__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled; store it through the repository's encryption")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


def check_secret_length(name: str, secret: Secret) -> None:
    """Refuse a secret too short to be masked safely (see :data:`MIN_SECRET_LENGTH`).

    Whitespace around the value is not counted: adapters trim it before use.

    :param name: the secret's name, quoted in the message (never its value).
    :raises DomainError: the secret has fewer than :data:`MIN_SECRET_LENGTH` characters.
    """
    if len(secret.reveal().strip()) < MIN_SECRET_LENGTH:
        raise DomainError(
            f"secret {name!r} is too short to be a real one (fewer than {MIN_SECRET_LENGTH} "
            "characters); copy the whole value your broker or service gave you"
        )
