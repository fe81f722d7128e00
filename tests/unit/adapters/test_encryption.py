"""Broker secrets at rest: Fernet key rings bound to a context, and private key files."""

from __future__ import annotations

import base64
import copy
import os
import pickle
import stat
import traceback
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from tradecore.errors import ConfigurationError, TradecoreError
from tradecore_adapters.encryption import (
    KEY_FILE_NAME,
    DecryptionFailed,
    KeyRing,
    SecretKeyError,
    create_key_file,
    load_key_ring,
    read_key_file,
)

K1 = KeyRing.generate_key()
K2 = KeyRing.generate_key()
K3 = KeyRing.generate_key()
CONTEXT = "broker_connections:42:secrets"
PLAINTEXT = b'{"api_secret": "sk-canary-plaintext-9c1e"}'
# A key whose value is easy to spot in any text it leaks into.
CANARY_RAW = b"canary-key-canary-key-canary-key"
CANARY_KEY = base64.urlsafe_b64encode(CANARY_RAW).decode()
NOT_A_KEY = "not-a-key-canary-5d2f"
GENERIC = "cannot decrypt: wrong secret key or corrupt data"

ROUND_TRIP_RING = KeyRing.from_keys([K1, K2])


def ring(*keys: str) -> KeyRing:
    return KeyRing.from_keys(keys)


def shown(value: object) -> list[str]:
    """Every way a value is commonly turned into text."""
    texts = [repr(value), str(value), f"{value}", "%s" % (value,)]  # noqa: UP031
    if isinstance(value, BaseException):
        texts.append("".join(traceback.format_exception(value)))
        texts.extend(repr(arg) for arg in value.args)
    return texts


def assert_hides(value: object, *secrets: str | bytes) -> None:
    for text in shown(value):
        for secret in secrets:
            needle = secret.decode(errors="replace") if isinstance(secret, bytes) else secret
            assert needle not in text


def fail_decrypt(keyring: KeyRing, token: str, *, context: str = CONTEXT) -> DecryptionFailed:
    with pytest.raises(DecryptionFailed) as caught:
        keyring.decrypt(token, context=context)
    return caught.value


def write_key_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


# --- encrypt, decrypt, rotate ----------------------------------------------------------------


@given(data=st.binary(), context=st.text(min_size=1))
def test_round_trip_of_any_bytes_under_any_context(data: bytes, context: str) -> None:
    token = ROUND_TRIP_RING.encrypt(data, context=context)
    assert token.isascii()
    assert ROUND_TRIP_RING.decrypt(token, context=context) == data


def test_a_token_is_a_fernet_token_of_the_primary_key_and_never_repeats() -> None:
    keyring = ring(K1, K2)
    first = keyring.encrypt(PLAINTEXT, context=CONTEXT)
    second = keyring.encrypt(PLAINTEXT, context=CONTEXT)
    assert first != second
    Fernet(K1.encode()).decrypt(first)  # opens under the primary key
    assert PLAINTEXT not in base64.urlsafe_b64decode(first)


def test_rotate_moves_a_token_to_the_new_key_and_keeps_the_plaintext() -> None:
    old_token = ring(K1).encrypt(PLAINTEXT, context=CONTEXT)

    rotated = ring(K2, K1).rotate(old_token, context=CONTEXT)

    assert ring(K2).decrypt(rotated, context=CONTEXT) == PLAINTEXT
    fail_decrypt(ring(K1), rotated)
    # Like MultiFernet.rotate, the token keeps its creation time.
    assert Fernet(K2.encode()).extract_timestamp(rotated) == Fernet(K1.encode()).extract_timestamp(
        old_token
    )


def test_rotate_refuses_a_token_no_key_opens_or_of_another_context() -> None:
    token = ring(K3).encrypt(PLAINTEXT, context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        ring(K2, K1).rotate(token, context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        ring(K2, K3).rotate(token, context="broker_connections:43:secrets")


def test_decrypt_with_key_id_names_the_key_that_opened_the_token() -> None:
    old_token = ring(K1).encrypt(PLAINTEXT, context=CONTEXT)
    keyring = ring(K2, K1)
    new_token = keyring.encrypt(PLAINTEXT, context=CONTEXT)

    assert keyring.decrypt_with_key_id(old_token, context=CONTEXT) == (
        PLAINTEXT,
        keyring.key_ids[1],
    )
    assert keyring.decrypt_with_key_id(new_token, context=CONTEXT) == (
        PLAINTEXT,
        keyring.primary_id,
    )


def test_key_ids_are_short_stable_fingerprints_in_key_order() -> None:
    keyring = ring(K2, K1)
    assert keyring.key_ids == (ring(K2).primary_id, ring(K1).primary_id)
    assert keyring.primary_id == keyring.key_ids[0]
    assert keyring.primary_id != keyring.key_ids[1]
    for key_id in keyring.key_ids:
        assert len(key_id) == 12
        assert int(key_id, 16) >= 0
        assert key_id not in K1
        assert key_id not in K2


def test_a_token_copied_to_another_context_does_not_decrypt() -> None:
    keyring = ring(K1)
    token = keyring.encrypt(PLAINTEXT, context="broker_connections:42:secrets")
    error = fail_decrypt(keyring, token, context="broker_connections:43:secrets")
    assert "another record" in str(error)
    fail_decrypt(keyring, token, context="broker_connections:42:tokens")


def test_a_context_that_is_a_prefix_of_another_does_not_match() -> None:
    keyring = ring(K1)
    token = keyring.encrypt(b":secrets" + PLAINTEXT, context="broker_connections:4")
    fail_decrypt(keyring, token, context="broker_connections:4:secrets")


@pytest.mark.parametrize("position", [0, 10, 60, -5, -1])
def test_a_tampered_token_does_not_decrypt(position: int) -> None:
    keyring = ring(K1)
    token = keyring.encrypt(PLAINTEXT, context=CONTEXT)
    flipped = "A" if token[position] != "A" else "B"
    tampered = token[:position] + flipped + token[position:][1:]
    assert tampered != token
    fail_decrypt(keyring, tampered)


def test_a_wrong_key_does_not_decrypt_and_says_so_generically() -> None:
    token = ring(K1).encrypt(PLAINTEXT, context=CONTEXT)
    error = fail_decrypt(ring(K2, K3), token)
    assert str(error) == GENERIC
    assert error.__cause__ is None
    assert error.__suppress_context__


@pytest.mark.parametrize(
    "token",
    ["", "not a token", "é" * 10, Fernet(K1.encode()).encrypt(b"no envelope").decode()],
)
def test_garbage_and_foreign_fernet_tokens_do_not_decrypt(token: str) -> None:
    error = fail_decrypt(ring(K1), token)
    assert error.__cause__ is None


def test_an_empty_context_is_refused() -> None:
    with pytest.raises(ValueError, match="context"):
        ring(K1).encrypt(PLAINTEXT, context="")


def test_a_context_too_long_for_the_envelope_is_refused() -> None:
    with pytest.raises(ValueError, match="context"):
        ring(K1).encrypt(PLAINTEXT, context="x" * 65536)


# --- nothing secret shows ----------------------------------------------------------------------


def test_the_ring_shows_key_ids_only() -> None:
    keyring = ring(CANARY_KEY, K1)
    assert_hides(keyring, CANARY_KEY, CANARY_RAW, K1)
    assert keyring.primary_id in repr(keyring)
    assert keyring.key_ids[1] in repr(keyring)


def test_the_ring_cannot_be_pickled_and_copies_are_itself() -> None:
    keyring = ring(CANARY_KEY)
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(keyring)
    assert copy.copy(keyring) is keyring
    assert copy.deepcopy(keyring) is keyring


def test_decryption_errors_show_no_key_token_or_plaintext() -> None:
    good = ring(CANARY_KEY)
    token = good.encrypt(PLAINTEXT, context=CONTEXT)
    for error in (
        fail_decrypt(ring(K1), token),
        fail_decrypt(good, token, context="broker_connections:43:secrets"),
        fail_decrypt(good, token[:-8] + "AAAAAAAA"),
    ):
        assert_hides(error, CANARY_KEY, CANARY_RAW, PLAINTEXT, token)
    with pytest.raises(DecryptionFailed) as caught:
        ring(K1).rotate(token, context=CONTEXT)
    assert_hides(caught.value, CANARY_KEY, PLAINTEXT, token)


def test_invalid_key_errors_name_the_position_never_the_value() -> None:
    with pytest.raises(SecretKeyError) as caught:
        KeyRing.from_keys([CANARY_KEY, NOT_A_KEY])
    assert "2nd" in str(caught.value)
    assert_hides(caught.value, CANARY_KEY, NOT_A_KEY)


# --- building a ring ---------------------------------------------------------------------------


def test_errors_belong_to_the_tradecore_tree() -> None:
    assert issubclass(SecretKeyError, ConfigurationError)
    assert issubclass(DecryptionFailed, TradecoreError)
    assert not issubclass(DecryptionFailed, ConfigurationError)


def test_generate_key_makes_distinct_valid_keys() -> None:
    first, second = KeyRing.generate_key(), KeyRing.generate_key()
    assert first != second
    assert len(first) == 44
    assert ring(first, second).key_ids[0] != ring(first, second).key_ids[1]


@pytest.mark.parametrize("keys", [[], [""], ["  ", "\n", ""]])
def test_no_key_is_refused(keys: list[str]) -> None:
    with pytest.raises(SecretKeyError, match="no secret key"):
        KeyRing.from_keys(keys)


@pytest.mark.parametrize(
    ("valid_before", "ordinal"),
    [(0, "1st"), (1, "2nd"), (2, "3rd"), (3, "4th"), (10, "11th"), (11, "12th"), (20, "21st")],
)
def test_an_invalid_key_is_named_by_its_position(valid_before: int, ordinal: str) -> None:
    keys = [KeyRing.generate_key() for _ in range(valid_before)] + [NOT_A_KEY]
    with pytest.raises(SecretKeyError) as caught:
        KeyRing.from_keys(keys)
    assert f"the {ordinal} secret key " in str(caught.value)


@pytest.mark.parametrize(
    "bad",
    [
        K1[:-1],  # no padding
        K1 + "A",
        "!" + K1[1:],
        base64.urlsafe_b64encode(b"x" * 31).decode(),
        base64.urlsafe_b64encode(b"x" * 33).decode(),
        K1[:20] + " " + K1[20:],
    ],
)
def test_malformed_keys_are_refused(bad: str) -> None:
    with pytest.raises(SecretKeyError, match="not a valid Fernet key"):
        KeyRing.from_keys([bad])


def test_whitespace_and_empty_items_are_ignored() -> None:
    assert ring(f"  {K1}\n", "", " ", f"\t{K2}").key_ids == ring(K1, K2).key_ids


def test_a_repeated_key_is_kept_once_in_its_first_place() -> None:
    assert ring(K2, K1, K2, K1).key_ids == ring(K2, K1).key_ids


def test_the_standard_base64_spelling_of_a_key_is_the_same_key() -> None:
    raw = bytes([0xFB, 0xFF]) * 16
    urlsafe = base64.urlsafe_b64encode(raw).decode()
    standard = base64.b64encode(raw).decode()
    assert urlsafe != standard
    keyring = ring(standard, urlsafe)
    assert keyring.key_ids == ring(urlsafe).key_ids
    token = keyring.encrypt(PLAINTEXT, context=CONTEXT)
    assert ring(urlsafe).decrypt(token, context=CONTEXT) == PLAINTEXT


def test_a_single_string_is_not_taken_for_a_sequence_of_keys() -> None:
    with pytest.raises(TypeError):
        KeyRing.from_keys(K1)


# --- key files -----------------------------------------------------------------------------


def test_create_key_file_writes_one_private_key_in_private_directories(tmp_path: Path) -> None:
    path = tmp_path / "data" / "tradecore" / KEY_FILE_NAME
    assert create_key_file(path) is True

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert text.endswith("\n")
    assert text.count("\n") == 1
    (key,) = read_key_file(path)
    assert text == key + "\n"
    KeyRing.from_keys([key])


def test_create_key_file_leaves_an_existing_directory_mode_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    assert create_key_file(tmp_path / KEY_FILE_NAME) is True
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_create_key_file_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    assert create_key_file(path) is True
    before = path.read_text()
    assert create_key_file(path) is False
    assert path.read_text() == before


def test_create_key_file_never_writes_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    path = tmp_path / KEY_FILE_NAME
    path.symlink_to(target)
    assert create_key_file(path) is False
    assert not target.exists()


def test_two_created_key_files_hold_different_keys(tmp_path: Path) -> None:
    create_key_file(tmp_path / "a.key")
    create_key_file(tmp_path / "b.key")
    assert read_key_file(tmp_path / "a.key") != read_key_file(tmp_path / "b.key")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o601])
def test_a_key_file_others_can_read_is_refused_with_the_chmod_hint(
    tmp_path: Path, mode: int
) -> None:
    path = write_key_file(tmp_path / KEY_FILE_NAME, f"{CANARY_KEY}\n", mode)
    with pytest.raises(SecretKeyError) as caught:
        read_key_file(path)
    message = str(caught.value)
    assert f"mode {mode:04o}" in message
    assert f"chmod 600 {path}" in message
    assert_hides(caught.value, CANARY_KEY)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_private_key_file_is_accepted(tmp_path: Path, mode: int) -> None:
    path = write_key_file(tmp_path / KEY_FILE_NAME, f"{K1}\n", mode)
    assert read_key_file(path) == (K1,)


def test_a_key_file_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_key_file(tmp_path / KEY_FILE_NAME, f"{CANARY_KEY}\n")
    if os.geteuid() == 0:
        os.chown(path, 4242, -1)
    else:
        euid = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: euid + 1)
    with pytest.raises(SecretKeyError, match="belongs to uid") as caught:
        read_key_file(path)
    assert_hides(caught.value, CANARY_KEY)


def test_a_missing_key_file_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="run `tradecore init`"):
        read_key_file(tmp_path / KEY_FILE_NAME)


def test_a_directory_or_fifo_is_not_a_key_file(tmp_path: Path) -> None:
    directory = tmp_path / "dir"
    directory.mkdir(mode=0o700)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    for path in (directory, fifo):
        with pytest.raises(SecretKeyError, match="not a regular file"):
            read_key_file(path)


def test_a_key_file_holds_keys_newest_first_between_comments(tmp_path: Path) -> None:
    text = f"# rotated 2026-01-01\n\n{K2}\n   {K1}  \n# {K3} retired\n\n"
    path = write_key_file(tmp_path / KEY_FILE_NAME, text)
    assert read_key_file(path) == (K2, K1)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n  \n"])
def test_a_key_file_with_no_key_is_refused(tmp_path: Path, text: str) -> None:
    path = write_key_file(tmp_path / KEY_FILE_NAME, text)
    with pytest.raises(SecretKeyError, match="holds no key"):
        read_key_file(path)


def test_a_binary_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    path.write_bytes(b"\xff\xfe" + CANARY_RAW)
    path.chmod(0o600)
    with pytest.raises(SecretKeyError, match="not a text file") as caught:
        read_key_file(path)
    assert_hides(caught.value, CANARY_RAW)


# --- loading the ring --------------------------------------------------------------------------


def test_the_environment_wins_and_the_key_file_is_not_read(tmp_path: Path) -> None:
    # A world-readable key file would be refused if it were read.
    unsafe = write_key_file(tmp_path / KEY_FILE_NAME, f"{K3}\n", 0o644)
    keyring = load_key_ring(environ_keys=f" {K2} , {K1} ", key_file=unsafe)
    assert keyring.key_ids == ring(K2, K1).key_ids


@pytest.mark.parametrize("environ_keys", [None, "", "   "])
def test_without_the_environment_the_key_file_is_read(
    tmp_path: Path, environ_keys: str | None
) -> None:
    path = write_key_file(tmp_path / KEY_FILE_NAME, f"{K2}\n{K1}\n")
    keyring = load_key_ring(environ_keys=environ_keys, key_file=path)
    assert keyring.key_ids == ring(K2, K1).key_ids


def test_a_created_key_file_loads(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    create_key_file(path)
    keyring = load_key_ring(environ_keys=None, key_file=path)
    token = keyring.encrypt(PLAINTEXT, context=CONTEXT)
    assert load_key_ring(environ_keys=None, key_file=path).decrypt(token, context=CONTEXT) == (
        PLAINTEXT
    )


def test_no_environment_and_no_key_file_is_an_error_not_plaintext(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError) as caught:
        load_key_ring(environ_keys=None, key_file=tmp_path / KEY_FILE_NAME)
    message = str(caught.value)
    assert "TRADECORE_SECRET_KEY" in message
    assert "tradecore init" in message


def test_an_environment_of_only_commas_is_an_error(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / KEY_FILE_NAME, f"{K1}\n")
    with pytest.raises(SecretKeyError, match="no secret key in TRADECORE_SECRET_KEY"):
        load_key_ring(environ_keys=" , ,", key_file=path)


def test_an_invalid_key_says_where_it_came_from_but_not_what_it_is(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError) as from_environment:
        load_key_ring(environ_keys=f"{K1},{NOT_A_KEY}", key_file=tmp_path / KEY_FILE_NAME)
    assert "the 2nd secret key in TRADECORE_SECRET_KEY" in str(from_environment.value)
    assert_hides(from_environment.value, NOT_A_KEY, K1)

    path = write_key_file(tmp_path / KEY_FILE_NAME, f"# comment\n{NOT_A_KEY}\n")
    with pytest.raises(SecretKeyError) as from_file:
        load_key_ring(environ_keys=None, key_file=path)
    assert f"the 1st secret key in {path}" in str(from_file.value)
    assert_hides(from_file.value, NOT_A_KEY)
