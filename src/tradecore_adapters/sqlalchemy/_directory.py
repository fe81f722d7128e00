"""The SQL repositories of who: users and broker connections (secrets sealed)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence, Set
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Select,
    bindparam,
    delete,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DBAPIError

from tradecore.domain import (
    BrokerConnection,
    OAuthTokens,
    Secret,
    User,
)
from tradecore.errors import AlreadyExists, DomainError, NotFound, RepositoryError
from tradecore_adapters.encryption import DecryptionFailed, KeyRing
from tradecore_adapters.redaction import register_secret
from tradecore_adapters.sqlalchemy._rows import (
    UnreadableRow,
    user_from_row,
    user_row,
)
from tradecore_adapters.sqlalchemy._unit import Transaction, database_error, text_order
from tradecore_adapters.sqlalchemy.schema import (
    broker_connections,
    users,
)

__all__ = [
    "SEALED_COLUMNS",
    "Connections",
    "SecretsUnreadable",
    "Users",
    "connection_owned",
    "connections_owned",
    "open_connection_row",
    "seal_connection",
    "secret_context",
    "secrets_from_json",
    "secrets_json",
    "secrets_unreadable",
    "unreadable_secrets",
]


class SecretsUnreadable(RepositoryError):
    """The stored secrets of a connection or a notification target cannot be decrypted with the
    keys given."""


# The statements below are built once (at import, or once per dialect or shape) and run with
# their values as bound parameters (``b_…``, never a column's name): building a statement and
# its cache key on every call cost a scheduler cycle about a fifth of its CPU on PostgreSQL.

_OWNED = select(broker_connections.c.id).where(
    broker_connections.c.user_id == bindparam("b_user_id"),
    broker_connections.c.id.in_(bindparam("b_ids", expanding=True)),
)


async def connection_owned(tx: Transaction, user_id: str, connection_id: str) -> None:
    """:raises NotFound: the connection does not exist or is another user's."""
    await connections_owned(tx, user_id, {connection_id})


async def connections_owned(tx: Transaction, user_id: str, connection_ids: Set[str]) -> None:
    """Check that every connection of ``connection_ids`` is the user's: one query at most, none
    for connections the unit's write transaction already found (:meth:`Transaction.known_owned`).

    :raises NotFound: naming the first of them (in sorted order) that does not exist or is another
        user's.
    """
    wanted = {c for c in connection_ids if not tx.known_owned(user_id, c)}
    if not wanted:
        return
    connection = await tx.read()
    found = set(
        (await connection.scalars(_OWNED, {"b_user_id": user_id, "b_ids": list(wanted)})).all()
    )
    for connection_id in found:
        tx.remember_owned(user_id, connection_id)
    if missing := wanted - found:
        raise NotFound(f"no connection {sorted(missing)[0]!r} for this user")


_USER_ID: BindParameter[str] = bindparam("b_user_id")
_USER_TAKEN = select(users.c.name).where(
    (users.c.id == _USER_ID) | (users.c.name == bindparam("b_name"))
)
_USER_INSERT = insert(users)
_USER_BY_ID = select(users).where(users.c.id == _USER_ID)
_USER_BY_NAME = select(users).where(users.c.name == bindparam("b_name"))
_USER_NAME_TAKEN = select(users.c.id).where(
    (users.c.name == bindparam("b_name")) & (users.c.id != _USER_ID)
)
_USER_UPDATE = update(users).where(users.c.id == _USER_ID)  # SET: the columns given
_USER_DELETE = delete(users).where(users.c.id == _USER_ID)
_USER_PASSWORD_HASH = select(users.c.password_hash).where(users.c.id == _USER_ID)


@cache
def _users_by_name(sqlite: bool) -> Select[Any]:
    return select(users).order_by(text_order(users.c.name, sqlite=sqlite))


class Users:
    """:class:`~tradecore.ports.UserRepository` in SQL."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, user: User) -> None:
        async with self._tx.atomic() as connection:
            taken = await connection.scalar(
                _USER_TAKEN, {"b_user_id": user.id, "b_name": user.name}
            )
            if taken is not None:
                raise AlreadyExists(f"a user with id {user.id!r} or name {user.name!r} exists")
            await connection.execute(_USER_INSERT, [user_row(user)])

    async def get(self, user_id: str) -> User:
        return await self._one(_USER_BY_ID, {"b_user_id": user_id}, f"id {user_id!r}")

    async def get_by_name(self, name: str) -> User:
        return await self._one(_USER_BY_NAME, {"b_name": name}, f"name {name!r}")

    async def rename(self, user_id: str, name: str) -> None:
        async with self._tx.atomic() as connection:
            taken = await connection.scalar(
                _USER_NAME_TAKEN, {"b_name": name, "b_user_id": user_id}
            )
            if taken is not None:
                raise AlreadyExists(f"a user named {name!r} exists")
            result = await connection.execute(_USER_UPDATE, {"b_user_id": user_id, "name": name})
            if result.rowcount == 0:
                raise NotFound(f"no user with id {user_id!r}")

    async def list(self) -> Sequence[User]:
        connection = await self._tx.read()
        result = await connection.execute(_users_by_name(self._tx.sqlite))
        return [user_from_row(row) for row in result.mappings()]

    async def remove(self, user_id: str) -> None:
        self._tx.forget_owned()
        async with self._tx.atomic() as connection:
            result = await connection.execute(_USER_DELETE, {"b_user_id": user_id})
            if result.rowcount == 0:
                raise NotFound(f"no user with id {user_id!r}")

    async def set_admin(self, user_id: str, is_admin: bool) -> None:
        await self._change(user_id, is_admin=bool(is_admin))

    async def set_language(self, user_id: str, language: str | None) -> None:
        await self._change(user_id, language=language)

    async def set_password_hash(self, user_id: str, password_hash: str | None) -> None:
        await self._change(user_id, password_hash=password_hash)

    async def password_hash(self, user_id: str) -> str | None:
        connection = await self._tx.read()
        row = (await connection.execute(_USER_PASSWORD_HASH, {"b_user_id": user_id})).first()
        if row is None:
            raise NotFound(f"no user with id {user_id!r}")
        hashed: str | None = row[0]
        return hashed

    async def _change(self, user_id: str, **values: object) -> None:
        async with self._tx.atomic() as connection:
            result = await connection.execute(_USER_UPDATE, {"b_user_id": user_id, **values})
            if result.rowcount == 0:
                raise NotFound(f"no user with id {user_id!r}")

    async def _one(self, query: Select[Any], parameters: Mapping[str, Any], what: str) -> User:
        connection = await self._tx.read()
        row = (await connection.execute(query, parameters)).mappings().first()
        if row is None:
            raise NotFound(f"no user with {what}")
        return user_from_row(row)


def secret_context(user_id: str, connection_id: str, field: str) -> str:
    """What a ciphertext of ``field`` is bound to: copied onto another row or column, it does
    not decrypt."""
    return f"broker_connections:{user_id}:{connection_id}:{field}"


def _tokens_json(tokens: OAuthTokens) -> bytes:
    return json.dumps(
        {
            "access_token": tokens.access_token.reveal(),
            "refresh_token": None
            if tokens.refresh_token is None
            else tokens.refresh_token.reveal(),
            "access_expires_at": tokens.access_expires_at.isoformat(),
            "refresh_expires_at": None
            if tokens.refresh_expires_at is None
            else tokens.refresh_expires_at.isoformat(),
            "version": tokens.version,
            "login_required": tokens.login_required,
            "rotating_since": None
            if tokens.rotating_since is None
            else tokens.rotating_since.isoformat(),
            "rotating_by": tokens.rotating_by,
        }
    ).encode()


def _tokens_from_json(data: bytes) -> OAuthTokens:
    raw = json.loads(data)
    refresh = raw["refresh_token"]
    refresh_expires = raw["refresh_expires_at"]
    return OAuthTokens(
        access_token=Secret(raw["access_token"]),
        refresh_token=None if refresh is None else Secret(refresh),
        access_expires_at=datetime.fromisoformat(raw["access_expires_at"]),
        refresh_expires_at=None
        if refresh_expires is None
        else datetime.fromisoformat(refresh_expires),
        # Absent in rows written before tokens had a version.
        version=raw.get("version", 0),
        login_required=raw.get("login_required"),
        # Absent in rows written before refreshes were recorded as started.
        rotating_since=None
        if raw.get("rotating_since") is None
        else datetime.fromisoformat(raw["rotating_since"]),
        rotating_by=raw.get("rotating_by"),
    )


def secrets_json(secrets: Mapping[str, Secret]) -> bytes:
    """Named secrets as the JSON that is encrypted (values revealed: encrypt it at once)."""
    return json.dumps(
        {name: secret.reveal() for name, secret in secrets.items()}, sort_keys=True
    ).encode()


def secrets_from_json(data: bytes) -> dict[str, Secret]:
    """The named secrets of decrypted :func:`secrets_json`."""
    return {name: Secret(value) for name, value in json.loads(data).items()}


def seal_connection(key_ring: KeyRing, connection: BrokerConnection) -> dict[str, Any]:
    """A :class:`BrokerConnection` as a ``broker_connections`` row, secrets and tokens encrypted
    under the newest key."""
    secrets = secrets_json(connection.secrets)
    uid, cid = connection.user_id, connection.id
    return {
        "id": cid,
        "user_id": uid,
        "broker": connection.broker,
        "name": connection.name,
        "settings": dict(connection.settings),
        "secrets_enc": key_ring.encrypt(secrets, context=secret_context(uid, cid, "secrets")),
        "tokens_enc": None
        if connection.tokens is None
        else key_ring.encrypt(
            _tokens_json(connection.tokens), context=secret_context(uid, cid, "tokens")
        ),
        "key_id": key_ring.primary_id,
        "active": connection.active,
        "created_at": connection.created_at,
    }


def secrets_unreadable(what: str) -> SecretsUnreadable:
    """The error for secrets no key opens; ``what`` names their owner, never their values."""
    return SecretsUnreadable(
        f"cannot decrypt the secrets of {what}: the secret key is wrong or the stored data is "
        "corrupt; check TRADECORE_SECRET_KEY or the key file, and that a rotated-out key was not "
        "removed early (if the key is lost, `tradecore secrets forget` drops what it sealed)"
    )


SEALED_COLUMNS = ("secrets_enc", "tokens_enc", "key_id")
"""The columns of a ``broker_connections`` row that hold its ciphertexts; an update of a
connection read with ``secrets_unreadable`` leaves them as they are."""


def unreadable_secrets(row: RowMapping) -> SecretsUnreadable:
    """The error for a ``broker_connections`` row whose secrets no key opens."""
    return secrets_unreadable(
        f"connection {row['name']!r} (broker {row['broker']}, id {row['id']})"
    )


def open_connection_row(key_ring: KeyRing, row: RowMapping) -> BrokerConnection:
    """A ``broker_connections`` row as a :class:`BrokerConnection`, secrets decrypted.

    When no key opens its secrets or tokens (the key was lost, or a ciphertext was moved from
    another row), the connection is returned without them and with ``secrets_unreadable`` set,
    so it can still be listed, disabled and removed.

    :raises UnreadableRow: the row holds values the domain refuses.
    """
    uid, cid = row["user_id"], row["id"]
    secrets_plain: bytes | None
    tokens_plain: bytes | None
    try:
        secrets_plain = key_ring.decrypt(
            row["secrets_enc"], context=secret_context(uid, cid, "secrets")
        )
        tokens_plain = (
            None
            if row["tokens_enc"] is None
            else key_ring.decrypt(row["tokens_enc"], context=secret_context(uid, cid, "tokens"))
        )
    except DecryptionFailed:
        secrets_plain = tokens_plain = None
    try:
        settings = row["settings"]
        if not isinstance(settings, dict):
            raise TypeError("settings")
        connection = BrokerConnection(
            id=cid,
            user_id=uid,
            broker=row["broker"],
            name=row["name"],
            settings=settings,
            secrets={} if secrets_plain is None else secrets_from_json(secrets_plain),
            tokens=None if tokens_plain is None else _tokens_from_json(tokens_plain),
            active=bool(row["active"]),
            created_at=row["created_at"],
            secrets_unreadable=secrets_plain is None,
        )
    except (DomainError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise UnreadableRow(
            f"connection {row['name']!r} (id {cid}) cannot be read: {type(exc).__name__}"
        ) from None
    # Whatever a broker library might log with these values is masked (see redaction).
    for value in connection.secret_values():
        register_secret(value)
    return connection


_CONNECTION_ID: BindParameter[str] = bindparam("b_connection_id")
_USER_EXISTS = select(exists().where(users.c.id == _USER_ID))
_CONNECTION_INSERT = insert(broker_connections)
_CONNECTION_UPDATE = update(broker_connections).where(  # SET: the columns given
    broker_connections.c.id == _CONNECTION_ID, broker_connections.c.user_id == _USER_ID
)
_CONNECTION_DELETE = delete(broker_connections).where(
    broker_connections.c.id == _CONNECTION_ID, broker_connections.c.user_id == _USER_ID
)
_CONNECTION_NAME_TAKEN = select(broker_connections.c.id).where(
    (broker_connections.c.user_id == _USER_ID)
    & (broker_connections.c.name == bindparam("b_name"))
    & (broker_connections.c.id != _CONNECTION_ID)
)
_CONNECTION_BY_ID = select(broker_connections).where(
    broker_connections.c.user_id == _USER_ID, broker_connections.c.id == _CONNECTION_ID
)
_CONNECTION_BY_NAME = select(broker_connections).where(
    broker_connections.c.user_id == _USER_ID, broker_connections.c.name == bindparam("b_name")
)
# PostgreSQL: FOR NO KEY UPDATE: blocks other lockers and writers of this row, but not the
# foreign-key checks (FOR KEY SHARE) of trades and positions written for the connection
# meanwhile, so a sync is not held up by a token refresh.
_CONNECTION_BY_ID_FOR_UPDATE = _CONNECTION_BY_ID.with_for_update(key_share=True)


@cache
def _connections_of_user(sqlite: bool, active_only: bool) -> Select[Any]:
    query = select(broker_connections).where(broker_connections.c.user_id == _USER_ID)
    if active_only:
        query = query.where(broker_connections.c.active.is_(True))
    return query.order_by(text_order(broker_connections.c.name, sqlite=sqlite))


class Connections:
    """:class:`~tradecore.ports.ConnectionRepository` in SQL; secrets encrypted at rest."""

    def __init__(self, tx: Transaction, key_ring: KeyRing) -> None:
        self._tx = tx
        self._key_ring = key_ring

    async def add(self, connection: BrokerConnection) -> None:
        row = seal_connection(self._key_ring, connection)
        async with self._tx.atomic() as db:
            if not await db.scalar(_USER_EXISTS, {"b_user_id": connection.user_id}):
                raise NotFound(f"no user with id {connection.user_id!r}")
            await self._check_free(connection)
            await db.execute(_CONNECTION_INSERT, [row])

    async def get(self, user_id: str, connection_id: str) -> BrokerConnection:
        return await self._one(
            _CONNECTION_BY_ID,
            {"b_user_id": user_id, "b_connection_id": connection_id},
            f"id {connection_id!r}",
        )

    async def get_by_name(self, user_id: str, name: str) -> BrokerConnection:
        return await self._one(
            _CONNECTION_BY_NAME, {"b_user_id": user_id, "b_name": name}, f"name {name!r}"
        )

    async def get_for_update(self, user_id: str, connection_id: str) -> BrokerConnection:
        # PostgreSQL: a row lock (SELECT ... FOR NO KEY UPDATE, see _CONNECTION_BY_ID_FOR_UPDATE)
        # held until the transaction ends. SQLite: BEGIN IMMEDIATE first, i.e. the database's
        # write lock, which serialises the processes of one host; the row is then read inside
        # that transaction.
        return await self._one(
            _CONNECTION_BY_ID if self._tx.sqlite else _CONNECTION_BY_ID_FOR_UPDATE,
            {"b_user_id": user_id, "b_connection_id": connection_id},
            f"id {connection_id!r}",
            for_update=True,
        )

    async def list(self, user_id: str, *, active_only: bool = False) -> Sequence[BrokerConnection]:
        query = _connections_of_user(self._tx.sqlite, bool(active_only))
        db = await self._tx.read()
        rows = (await db.execute(query, {"b_user_id": user_id})).mappings().all()
        return [open_connection_row(self._key_ring, row) for row in rows]

    async def update(self, connection: BrokerConnection) -> None:
        row = seal_connection(self._key_ring, connection)
        # Unreadable secrets are kept as stored (the lost key may yet be found) until new ones
        # replace them: only a connection with readable secrets writes its ciphertexts.
        kept = (
            ("id", "user_id", *SEALED_COLUMNS)
            if connection.secrets_unreadable
            else ("id", "user_id")
        )
        values = {k: v for k, v in row.items() if k not in kept}
        async with self._tx.atomic() as db:
            await self._check_free(connection)
            result = await db.execute(
                _CONNECTION_UPDATE,
                {"b_connection_id": connection.id, "b_user_id": connection.user_id, **values},
            )
            if result.rowcount == 0:
                raise NotFound(f"no connection {connection.id!r} for this user")

    async def remove(self, user_id: str, connection_id: str) -> None:
        self._tx.forget_owned()
        async with self._tx.atomic() as db:
            result = await db.execute(
                _CONNECTION_DELETE, {"b_connection_id": connection_id, "b_user_id": user_id}
            )
            if result.rowcount == 0:
                raise NotFound(f"no connection {connection_id!r} for this user")

    async def _check_free(self, connection: BrokerConnection) -> None:
        db = await self._tx.read()
        clash = await db.scalar(
            _CONNECTION_NAME_TAKEN,
            {
                "b_user_id": connection.user_id,
                "b_name": connection.name,
                "b_connection_id": connection.id,
            },
        )
        if clash is not None:
            raise AlreadyExists(f"this user already has a connection named {connection.name!r}")

    async def _one(
        self,
        query: Select[Any],
        parameters: Mapping[str, Any],
        what: str,
        *,
        for_update: bool = False,
    ) -> BrokerConnection:
        if for_update:
            try:
                db = await self._tx.write()
                row = (await db.execute(query, parameters)).mappings().first()
            except DBAPIError as exc:
                raise database_error(exc) from None
        else:
            db = await self._tx.read()
            row = (await db.execute(query, parameters)).mappings().first()
        if row is None:
            raise NotFound(f"no connection with {what} for this user")
        return open_connection_row(self._key_ring, row)
