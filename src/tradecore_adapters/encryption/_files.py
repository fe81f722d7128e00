"""The secret key file: created private, read only while it is still private.

Like libpq with ``.pgpass``, a key file that other users could read, or that another user owns,
is refused rather than used.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import stat

from tradecore_adapters.encryption._errors import SecretKeyError
from tradecore_adapters.encryption._ring import KeyRing, _build

__all__ = ["KEY_FILE_NAME", "create_key_file", "load_key_ring", "read_key_file"]

KEY_FILE_NAME = "secret.key"
"""The key file's name inside tradecore's data directory."""

# The environment variable whose keys (comma-separated, newest first) win over the key file;
# tradecore_cli reads it and passes its value to load_key_ring.
_ENVIRON_VARIABLE = "TRADECORE_SECRET_KEY"

_MAX_KEY_FILE_BYTES = 64 * 1024


def _make_private_dirs(directory: pathlib.Path) -> None:
    # mkdir(parents=True) gives the parents it creates the default mode; each directory created
    # here is 0700 instead. Existing directories are left alone.
    missing: list[pathlib.Path] = []
    while not directory.exists():
        missing.append(directory)
        if directory.parent == directory:
            break
        directory = directory.parent
    for created in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(created, 0o700)


def _fsync_directory(directory: pathlib.Path) -> None:
    # Make the new directory entry durable too; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def create_key_file(path: pathlib.Path) -> bool:
    """Create a key file holding one fresh key, readable by its owner only.

    Missing parent directories are created with mode 0700. The file is created with mode 0600
    in the same system call that creates it, so it is never readable by others, and it is
    synced to disk before this returns. An existing file is never overwritten.

    :param path: where the key file goes (usually ``<data dir>/secret.key``).
    :returns: ``True`` when the file was created, ``False`` when it already existed.
    :raises SecretKeyError: when the directory or the file cannot be created.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        _make_private_dirs(path.parent)
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise SecretKeyError(
            f"cannot create the secret key file {path}: {exc.strerror or exc}"
        ) from None
    try:
        content = memoryview((KeyRing.generate_key() + "\n").encode("ascii"))
        while content:
            content = content[os.write(fd, content) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        # A half-written key file must not survive to be mistaken for a key.
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    os.close(fd)
    _fsync_directory(path.parent)
    return True


def read_key_file(path: pathlib.Path) -> tuple[str, ...]:
    """Read the keys of a key file, newest first.

    One key per line; blank lines and lines starting with ``#`` are ignored. The keys are not
    validated here (:meth:`KeyRing.from_keys` does that).

    :param path: the key file.
    :raises SecretKeyError: when the file is missing, is not a regular file, can be read by
        group or others, belongs to another user, cannot be read, or holds no key.
    """
    # Open first and check the open file, so what is checked is what is read. O_NONBLOCK keeps
    # a FIFO from blocking before it is refused.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise SecretKeyError(
            f"there is no secret key file at {path}: run `tradecore init` to create one"
            f" or set {_ENVIRON_VARIABLE}"
        ) from None
    except OSError as exc:
        raise SecretKeyError(
            f"cannot open the secret key file {path}: {exc.strerror or exc}"
        ) from None
    try:
        _check_safe(path, os.fstat(fd))
        content = _read_at_most(fd, _MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise SecretKeyError(
            f"cannot read the secret key file {path}: {exc.strerror or exc}"
        ) from None
    finally:
        os.close(fd)
    if len(content) > _MAX_KEY_FILE_BYTES:
        raise SecretKeyError(f"the secret key file {path} is too large to be a key file")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretKeyError(f"the secret key file {path} is not a text file") from None
    keys = tuple(
        line for line in (raw.strip() for raw in text.splitlines()) if line and line[0] != "#"
    )
    if not keys:
        raise SecretKeyError(
            f"the secret key file {path} holds no key: add one, or delete the file and run"
            " `tradecore init`"
        )
    return keys


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _check_safe(path: pathlib.Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise SecretKeyError(f"the secret key file {path} is not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise SecretKeyError(
            f"the secret key file {path} has mode {mode:04o}, so other users may read it:"
            f" run `chmod 600 {path}`"
        )
    euid = os.geteuid()
    if info.st_uid != euid:
        raise SecretKeyError(
            f"the secret key file {path} belongs to uid {info.st_uid}, not to the user running"
            f" tradecore (uid {euid}): run `chown {euid} {path}`"
        )


def load_key_ring(*, environ_keys: str | None, key_file: pathlib.Path) -> KeyRing:
    """Build the key ring from the environment, else from the key file.

    Never falls back to storing plaintext: without a key this raises.

    :param environ_keys: the raw value of ``TRADECORE_SECRET_KEY`` (comma-separated keys,
        newest first), or ``None`` when it is unset. When it is set and not blank it wins and
        the key file is not read.
    :param key_file: the key file to read otherwise.
    :raises SecretKeyError: when there is no key, a key is invalid, or the key file is refused
        (see :func:`read_key_file`).
    """
    if environ_keys is not None and environ_keys.strip():
        return _build(environ_keys.split(","), source=_ENVIRON_VARIABLE)
    return _build(read_key_file(key_file), source=str(key_file))
