"""Encryption of broker secrets at rest, with :mod:`cryptography`'s Fernet and MultiFernet.

The scheme:

- **Keys.** A :class:`KeyRing` holds Fernet keys (AES-128-CBC plus HMAC-SHA256, 32 random bytes
  in url-safe base64), newest first. The newest (primary) key encrypts; every key may decrypt,
  so old ciphertexts stay readable while keys rotate. A key is named by its *key id*, the first
  12 hex digits of ``sha256(b"tradecore-key-id:" + key)``, which is safe to log and store (e.g.
  in a ``key_version`` column) and reveals nothing about the key.
- **Context binding.** Fernet has no associated data, so the plaintext sealed in each token is an
  envelope: a version byte (1), the context's length (2 bytes, big-endian), the context in UTF-8,
  then the data. The caller names what the data belongs to, e.g.
  ``"broker_connections:<row id>:secrets"``, and decryption checks it: a ciphertext copied onto
  another row fails with :class:`DecryptionFailed`.
- **Rotation.** Prepend a new key (``TRADECORE_SECRET_KEY=new,old`` or a new first line in the
  key file), call :meth:`KeyRing.rotate` on every stored token (``decrypt_with_key_id`` tells
  which still need it), then drop the old key.
- **Where keys come from.** :func:`load_key_ring`: ``TRADECORE_SECRET_KEY`` when set, else the
  key file (:data:`KEY_FILE_NAME`, created 0600 by ``tradecore init`` through
  :func:`create_key_file`), which is refused when group or others may read it or another user
  owns it. Without a key it raises :class:`SecretKeyError`: secrets are never stored in clear.
- **No leaks.** Reprs show key ids only; errors never contain a key, a token or a plaintext, and
  decryption errors do not chain :mod:`cryptography`'s exception.
"""

from __future__ import annotations

from tradecore_adapters.encryption._errors import DecryptionFailed, SecretKeyError
from tradecore_adapters.encryption._files import (
    KEY_FILE_NAME,
    create_key_file,
    load_key_ring,
    read_key_file,
)
from tradecore_adapters.encryption._ring import KeyRing

__all__ = [
    "KEY_FILE_NAME",
    "DecryptionFailed",
    "KeyRing",
    "SecretKeyError",
    "create_key_file",
    "load_key_ring",
    "read_key_file",
]
