"""The errors of the encryption package; their messages never contain a key or a plaintext."""

from __future__ import annotations

from tradecore.errors import ConfigurationError, TradecoreError

__all__ = ["DECRYPTION_FAILED_MESSAGE", "DecryptionFailed", "SecretKeyError"]

DECRYPTION_FAILED_MESSAGE = "cannot decrypt: wrong secret key or corrupt data"


class SecretKeyError(ConfigurationError):
    """The secret key is missing or invalid, or the key file is unsafe or unreadable."""


class DecryptionFailed(TradecoreError):
    """A ciphertext cannot be opened: wrong key, corrupt data, or data of another record.

    The message is generic on purpose and the error never chains the underlying
    :mod:`cryptography` exception, so neither a key, a token nor a plaintext can leak through it.

    :param message: what went wrong, in words that contain no secret.
    """

    def __init__(self, message: str = DECRYPTION_FAILED_MESSAGE) -> None:
        super().__init__(message)
