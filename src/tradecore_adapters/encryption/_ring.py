"""The key ring: Fernet keys, newest first, and the context-bound envelope they encrypt."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence

from attrs import field, frozen
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from tradecore_adapters.encryption._errors import DecryptionFailed, SecretKeyError

__all__ = ["KeyRing"]

# Envelope (the Fernet plaintext): version byte, context length (2 bytes, big-endian), the
# context in UTF-8, then the data. Fernet has no associated data, so the context rides inside.
_VERSION = b"\x01"
_HEADER = 1 + 2
_MAX_CONTEXT = 0xFFFF
_KEY_ID_PREFIX = b"tradecore-key-id:"
_KEY_ID_LENGTH = 12
_OTHER_CONTEXT = "cannot decrypt: the data was encrypted for another record or field"
_B64_STANDARD = str.maketrans("-_", "+/")


def _ordinal(n: int) -> str:
    # 1st, 2nd, 3rd, 4th… 11th, 12th, 13th… 21st.
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _raw_key(key: str) -> bytes | None:
    # A Fernet key is 32 bytes in base64 (url-safe, as Fernet.generate_key writes it; the
    # standard alphabet of `openssl rand -base64 32` is accepted too). Strict: no stray bytes.
    try:
        raw = base64.b64decode(key.translate(_B64_STANDARD), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def _key_id(raw: bytes) -> str:
    # A truncated, domain-separated SHA-256 of the key: names a key, reveals nothing about it.
    return hashlib.sha256(_KEY_ID_PREFIX + raw).hexdigest()[:_KEY_ID_LENGTH]


def _context_bytes(context: str) -> bytes:
    encoded = context.encode("utf-8")
    if not encoded:
        raise ValueError("an encryption context must not be empty")
    if len(encoded) > _MAX_CONTEXT:
        raise ValueError(f"an encryption context must be at most {_MAX_CONTEXT} bytes")
    return encoded


def _seal(context: str, data: bytes) -> bytes:
    encoded = _context_bytes(context)
    return _VERSION + len(encoded).to_bytes(2, "big") + encoded + data


def _open_envelope(envelope: bytes, context: str) -> bytes:
    expected = _context_bytes(context)
    if len(envelope) < _HEADER or envelope[:1] != _VERSION:
        raise DecryptionFailed()
    length = int.from_bytes(envelope[1:_HEADER], "big")
    end = _HEADER + length
    if len(envelope) < end:
        raise DecryptionFailed()
    if envelope[_HEADER:end] != expected:
        raise DecryptionFailed(_OTHER_CONTEXT)
    return envelope[end:]


def _build(keys: Sequence[str], *, source: str | None) -> KeyRing:
    # `source` names where the keys came from (an env var, a file) for error messages only.
    if isinstance(keys, str):
        raise TypeError("KeyRing.from_keys takes a sequence of keys, not a single string")
    where = f" in {source}" if source else ""
    fernets: list[Fernet] = []
    ids: list[str] = []
    seen: set[bytes] = set()
    primary: bytes | None = None
    stripped = [key.strip() for key in keys]
    for position, key in enumerate((key for key in stripped if key), start=1):
        raw = _raw_key(key)
        if raw is None:
            raise SecretKeyError(
                f"the {_ordinal(position)} secret key{where} is not a valid Fernet key"
                " (32 bytes in url-safe base64, as `tradecore init` writes it)"
            )
        if raw in seen:
            continue
        seen.add(raw)
        primary = raw if primary is None else primary
        fernets.append(Fernet(base64.urlsafe_b64encode(raw)))
        ids.append(_key_id(raw))
    if not fernets:
        raise SecretKeyError(
            f"no secret key{where}: set TRADECORE_SECRET_KEY or run `tradecore init`"
        )
    assert primary is not None
    return KeyRing(fernets=tuple(fernets), key_ids=tuple(ids), primary_key=primary)


@frozen(eq=False)
class KeyRing:
    """Fernet keys, newest first: the first encrypts, every one of them may decrypt.

    Build it with :meth:`from_keys`. Its repr shows only key ids, never key material, and it
    refuses to be pickled. Every token is bound to a *context* (e.g.
    ``"broker_connections:<row id>:secrets"``): decrypting with another context fails, so a
    ciphertext copied onto another row does not open.
    """

    _fernets: tuple[Fernet, ...] = field(repr=False)
    _key_ids: tuple[str, ...] = field()
    _primary_key: bytes = field(repr=False)
    _multi: MultiFernet = field(init=False, repr=False)

    @_multi.default
    def _multi_default(self) -> MultiFernet:
        return MultiFernet(self._fernets)

    @classmethod
    def from_keys(cls, keys: Sequence[str]) -> KeyRing:
        """Build a ring from Fernet keys, newest first.

        Whitespace around a key is stripped, empty items are ignored and a repeated key is
        kept once (its first place).

        :param keys: Fernet keys (url-safe base64 of 32 bytes), the newest first.
        :raises SecretKeyError: when no key is given or one is invalid (named by its position,
            never by its value).
        """
        return _build(keys, source=None)

    @staticmethod
    def generate_key() -> str:
        """Return a fresh random Fernet key."""
        return Fernet.generate_key().decode("ascii")

    @property
    def primary_id(self) -> str:
        """The id of the newest key, the one that encrypts."""
        return self._key_ids[0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The id of every key, newest first: a non-secret fingerprint of each key."""
        return self._key_ids

    def derive(self, purpose: str) -> bytes:
        """32 bytes derived from the newest key for ``purpose`` (HKDF-SHA256): a secret that
        every process holding the same keys agrees on (the web servers' CSRF signing key), and
        from which neither the key nor another purpose's secret can be computed."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        derivation = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"tradecore:" + purpose.encode()
        )
        return derivation.derive(self._primary_key)

    def encrypt(self, plaintext: bytes, *, context: str) -> str:
        """Encrypt under the primary key and return the Fernet token.

        :param plaintext: the secret data.
        :param context: what the data belongs to, e.g. ``"broker_connections:42:secrets"``;
            the same context must be given to decrypt it.
        :raises ValueError: when the context is empty or longer than 65535 bytes in UTF-8.
        """
        return self._multi.encrypt(_seal(context, plaintext)).decode("ascii")

    def decrypt(self, token: str, *, context: str) -> bytes:
        """Return the plaintext of a token made by :meth:`encrypt` under any key of the ring.

        :param token: the Fernet token.
        :param context: the context it was encrypted with.
        :raises DecryptionFailed: when no key opens it, it is corrupt, or the context differs.
        """
        return self.decrypt_with_key_id(token, context=context)[0]

    def decrypt_with_key_id(self, token: str, *, context: str) -> tuple[bytes, str]:
        """Return the plaintext and the id of the key that opened the token.

        A key id other than :attr:`primary_id` means the token should be rotated.

        :param token: the Fernet token.
        :param context: the context it was encrypted with.
        :raises DecryptionFailed: when no key opens it, it is corrupt, or the context differs.
        """
        data = self._token_bytes(token)
        for fernet, key_id in zip(self._fernets, self._key_ids, strict=True):
            try:
                envelope = fernet.decrypt(data)
            except InvalidToken:
                continue
            return _open_envelope(envelope, context), key_id
        raise DecryptionFailed() from None

    def rotate(self, token: str, *, context: str) -> str:
        """Re-encrypt a token under the primary key, keeping its plaintext and context.

        The token's creation time is kept (as :meth:`cryptography.fernet.MultiFernet.rotate`
        does).

        :param token: a token made under any key of the ring.
        :param context: the context it was encrypted with; it is checked first.
        :raises DecryptionFailed: when no key opens it, it is corrupt, or the context differs.
        """
        self.decrypt_with_key_id(token, context=context)
        try:
            return self._multi.rotate(self._token_bytes(token)).decode("ascii")
        except InvalidToken:
            raise DecryptionFailed() from None

    @staticmethod
    def _token_bytes(token: str) -> bytes:
        try:
            return token.encode("ascii")
        except UnicodeEncodeError:
            raise DecryptionFailed() from None

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={self._key_ids!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the keys out in clear.
        raise TypeError("a KeyRing holds secret keys and cannot be pickled")

    def __copy__(self) -> KeyRing:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> KeyRing:
        return self
