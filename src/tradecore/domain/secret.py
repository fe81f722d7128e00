"""The :class:`Secret` wrapper: a value that never shows itself by accident."""

from __future__ import annotations

from typing import Any, NoReturn, final

__all__ = ["Secret"]

_MASK = "**********"


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
            raise ValueError("a Secret must not be empty")
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
