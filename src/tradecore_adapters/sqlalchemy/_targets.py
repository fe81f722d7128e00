"""The SQL repository of notification targets: where each user's digests go, secrets encrypted.

A target's secrets (a bot token…) are encrypted like a connection's (see :mod:`._directory`),
under a context of their own: a ciphertext moved from a connection's row, or from another
target's, does not decrypt.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete, exists, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql import Select

from tradecore.domain import NotificationTarget
from tradecore.errors import AlreadyExists, DomainError, NotFound
from tradecore_adapters.encryption import DecryptionFailed, KeyRing
from tradecore_adapters.redaction import register_secret
from tradecore_adapters.sqlalchemy._directory import (
    SecretsUnreadable,
    secrets_from_json,
    secrets_json,
    secrets_unreadable,
)
from tradecore_adapters.sqlalchemy._rows import UnreadableRow
from tradecore_adapters.sqlalchemy._unit import Transaction, text_order
from tradecore_adapters.sqlalchemy.schema import notification_targets, users

__all__ = [
    "NotificationTargets",
    "open_target_row",
    "seal_target",
    "target_secret_context",
    "unreadable_target_secrets",
]

_c = notification_targets.c

# The statements, built once, their values bound ("b_…") when run.
_USER_EXISTS = select(exists().where(users.c.id == bindparam("b_user_id")))
_ID_EXISTS = select(exists().where(_c.id == bindparam("b_target_id")))
_INSERT = insert(notification_targets)
_BY_ID = select(notification_targets).where(
    _c.user_id == bindparam("b_user_id"), _c.id == bindparam("b_target_id")
)
_BY_NAME = select(notification_targets).where(
    _c.user_id == bindparam("b_user_id"), _c.name == bindparam("b_name")
)
_OWNED = (_c.id == bindparam("b_target_id"), _c.user_id == bindparam("b_user_id"))
_REMOVE = delete(notification_targets).where(*_OWNED)
# Another target of the user with the name.
_CLASH = select(_c.id).where(
    (_c.user_id == bindparam("b_user_id"))
    & (_c.name == bindparam("b_name"))
    & (_c.id != bindparam("b_target_id"))
)


@functools.cache
def _listed(sqlite: bool, active_only: bool) -> Select[Any]:
    """The user's (``b_user_id``) targets by name."""
    query = select(notification_targets).where(_c.user_id == bindparam("b_user_id"))
    if active_only:
        query = query.where(_c.active.is_(True))
    return query.order_by(text_order(_c.name, sqlite=sqlite))


@functools.cache
def _update(columns: tuple[str, ...]) -> Any:
    """The update of the target (``b_target_id``, ``b_user_id``), setting ``columns`` (from
    ``b_set_…``)."""
    return (
        update(notification_targets)
        .where(*_OWNED)
        .values({name: bindparam(f"b_set_{name}") for name in columns})
    )


def target_secret_context(user_id: str, target_id: str, field: str) -> str:
    """What a target's ciphertext of ``field`` is bound to: copied onto another row or column (or
    from a connection's), it does not decrypt."""
    return f"notification_targets:{user_id}:{target_id}:{field}"


def seal_target(key_ring: KeyRing, target: NotificationTarget) -> dict[str, Any]:
    """A :class:`NotificationTarget` as a ``notification_targets`` row, secrets encrypted under
    the newest key."""
    uid, tid = target.user_id, target.id
    return {
        "id": tid,
        "user_id": uid,
        "notifier": target.notifier,
        "name": target.name,
        "settings": dict(target.settings),
        "secrets_enc": key_ring.encrypt(
            secrets_json(target.secrets), context=target_secret_context(uid, tid, "secrets")
        ),
        "key_id": key_ring.primary_id,
        "active": target.active,
        "created_at": target.created_at,
    }


def unreadable_target_secrets(row: RowMapping) -> SecretsUnreadable:
    """The error for a ``notification_targets`` row whose secrets no key opens."""
    return secrets_unreadable(
        f"notification target {row['name']!r} (notifier {row['notifier']}, id {row['id']})"
    )


def open_target_row(key_ring: KeyRing, row: RowMapping) -> NotificationTarget:
    """A ``notification_targets`` row as a :class:`NotificationTarget`, secrets decrypted.

    When no key opens its secrets (the key was lost, or they were moved from another row), the
    target is returned without them and with ``secrets_unreadable`` set, so it can still be
    listed, disabled and removed.

    :raises UnreadableRow: the row holds values the domain refuses.
    """
    uid, tid = row["user_id"], row["id"]
    secrets_plain: bytes | None
    try:
        secrets_plain = key_ring.decrypt(
            row["secrets_enc"], context=target_secret_context(uid, tid, "secrets")
        )
    except DecryptionFailed:
        secrets_plain = None
    try:
        settings = row["settings"]
        if not isinstance(settings, dict):
            raise TypeError("settings")
        target = NotificationTarget(
            id=tid,
            user_id=uid,
            notifier=row["notifier"],
            name=row["name"],
            settings=settings,
            secrets={} if secrets_plain is None else secrets_from_json(secrets_plain),
            active=bool(row["active"]),
            created_at=row["created_at"],
            secrets_unreadable=secrets_plain is None,
        )
    except (DomainError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise UnreadableRow(
            f"notification target {row['name']!r} (id {tid}) cannot be read: {type(exc).__name__}"
        ) from None
    # Whatever a notifier library might log with these values is masked (see redaction).
    for value in target.secret_values():
        register_secret(value)
    return target


class NotificationTargets:
    """:class:`~tradecore.ports.NotificationTargetRepository` in SQL; secrets encrypted at rest."""

    def __init__(self, tx: Transaction, key_ring: KeyRing) -> None:
        self._tx = tx
        self._key_ring = key_ring

    async def add(self, target: NotificationTarget) -> None:
        row = seal_target(self._key_ring, target)
        async with self._tx.atomic() as db:
            if not await db.scalar(_USER_EXISTS, {"b_user_id": target.user_id}):
                raise NotFound(f"no user with id {target.user_id!r}")
            if await db.scalar(_ID_EXISTS, {"b_target_id": target.id}):
                raise AlreadyExists(f"a notification target with id {target.id!r} exists")
            await self._check_free(target)
            await db.execute(_INSERT, [row])

    async def get(self, user_id: str, target_id: str) -> NotificationTarget:
        return await self._one(
            _BY_ID, {"b_user_id": user_id, "b_target_id": target_id}, f"id {target_id!r}"
        )

    async def get_by_name(self, user_id: str, name: str) -> NotificationTarget:
        return await self._one(_BY_NAME, {"b_user_id": user_id, "b_name": name}, f"name {name!r}")

    async def list(
        self, user_id: str, *, active_only: bool = False
    ) -> Sequence[NotificationTarget]:
        query = _listed(self._tx.sqlite, active_only)
        db = await self._tx.read()
        rows = (await db.execute(query, {"b_user_id": user_id})).mappings().all()
        return [open_target_row(self._key_ring, row) for row in rows]

    async def update(self, target: NotificationTarget) -> None:
        row = seal_target(self._key_ring, target)
        # Unreadable secrets are kept as stored until new ones replace them.
        kept = (
            ("id", "user_id", "secrets_enc", "key_id")
            if target.secrets_unreadable
            else ("id", "user_id")
        )
        async with self._tx.atomic() as db:
            await self._check_free(target)
            columns = tuple(k for k in row if k not in kept)
            result = await db.execute(
                _update(columns),
                {"b_target_id": target.id, "b_user_id": target.user_id}
                | {f"b_set_{k}": row[k] for k in columns},
            )
            if result.rowcount == 0:
                raise NotFound(f"no notification target {target.id!r} for this user")

    async def remove(self, user_id: str, target_id: str) -> None:
        async with self._tx.atomic() as db:
            result = await db.execute(_REMOVE, {"b_target_id": target_id, "b_user_id": user_id})
            if result.rowcount == 0:
                raise NotFound(f"no notification target {target_id!r} for this user")

    async def _check_free(self, target: NotificationTarget) -> None:
        db = await self._tx.read()
        clash = await db.scalar(
            _CLASH, {"b_user_id": target.user_id, "b_name": target.name, "b_target_id": target.id}
        )
        if clash is not None:
            raise AlreadyExists(
                f"this user already has a notification target named {target.name!r}"
            )

    async def _one(self, query: Any, parameters: dict[str, str], what: str) -> NotificationTarget:
        db = await self._tx.read()
        row = (await db.execute(query, parameters)).mappings().first()
        if row is None:
            raise NotFound(f"no notification target with {what} for this user")
        return open_target_row(self._key_ring, row)
