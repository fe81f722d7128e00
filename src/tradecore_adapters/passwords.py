"""Password hashing with Argon2id (argon2-cffi): the :class:`~tradecore.ports.PasswordHasher`
the composition root wires in.

argon2-cffi binds the reference implementation of Argon2, the winner of the Password Hashing
Competition, and is maintained (https://argon2-cffi.readthedocs.io/). Its default parameters
follow RFC 9106's second recommended option (https://www.rfc-editor.org/rfc/rfc9106#section-4);
a hash made with other parameters verifies, and :meth:`Argon2Hasher.needs_rehash` then says to
replace it after a successful login.
"""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["Argon2Hasher"]


class Argon2Hasher:
    """Argon2id hashes. The parameters are argon2-cffi's defaults unless given (tests pass
    cheap ones).

    :param time_cost: iterations.
    :param memory_cost: memory in KiB.
    :param parallelism: lanes.
    """

    def __init__(
        self,
        *,
        time_cost: int | None = None,
        memory_cost: int | None = None,
        parallelism: int | None = None,
    ) -> None:
        defaults = _Argon2()
        self._hasher = _Argon2(
            time_cost=time_cost if time_cost is not None else defaults.time_cost,
            memory_cost=memory_cost if memory_cost is not None else defaults.memory_cost,
            parallelism=parallelism if parallelism is not None else defaults.parallelism,
        )

    def __repr__(self) -> str:
        return (
            f"Argon2Hasher(time_cost={self._hasher.time_cost}, "
            f"memory_cost={self._hasher.memory_cost}, parallelism={self._hasher.parallelism})"
        )

    def hash(self, password: str) -> str:
        """A new Argon2id hash of ``password`` with a random salt."""
        return self._hasher.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        """Whether ``password`` matches ``hashed``; ``False`` for a malformed hash too."""
        try:
            return self._hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        """Whether ``hashed`` was made with other parameters than this hasher's."""
        try:
            return self._hasher.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return True
