"""The :class:`PasswordHasher` port: how passwords become stored hashes and are checked.

The core decides the rule for passwords and when to check one; an adapter (Argon2id through
argon2-cffi, ``tradecore_adapters.passwords``) does the slow, salted hashing. A hash is a
self-describing string (algorithm, parameters, salt, digest), so the parameters can change and
old hashes still verify: :meth:`PasswordHasher.needs_rehash` says when one should be replaced.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["PasswordHasher"]


@runtime_checkable
class PasswordHasher(Protocol):
    """Hashes and verifies passwords. Neither the password nor the hash is ever logged."""

    def hash(self, password: str) -> str:
        """A new salted hash of ``password``."""
        ...

    def verify(self, hashed: str, password: str) -> bool:
        """Whether ``password`` matches ``hashed`` (``False`` for a malformed hash too)."""
        ...

    def needs_rehash(self, hashed: str) -> bool:
        """Whether ``hashed`` was made with other parameters than this hasher's."""
        ...
