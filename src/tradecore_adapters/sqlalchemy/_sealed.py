"""Which keys sealed the secrets a database holds, read without any key.

``tradecore init`` asks this before it makes a new key: a database whose connections or
notification targets were sealed by keys it does not have would otherwise be paired silently
with a key that opens none of them. Only the ``key_id`` columns are read (a key id names a key
and reveals nothing about it); an empty database, or one without tradecore's tables yet, holds
nothing sealed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from attrs import frozen
from sqlalchemy import Connection, func, inspect, select

from tradecore_adapters.sqlalchemy._engine import create_engine, describe_url, is_sqlite
from tradecore_adapters.sqlalchemy.schema import broker_connections, notification_targets

__all__ = ["SealedSecrets", "sealed_secrets"]


@frozen(kw_only=True)
class SealedSecrets:
    """How many connections and notification targets each key id sealed.

    :param connections: key id → number of connections whose secrets it sealed.
    :param targets: key id → number of notification targets whose secrets it sealed.
    """

    connections: Mapping[str, int]
    targets: Mapping[str, int]

    def not_under(self, key_ids: Collection[str]) -> SealedSecrets:
        """Only what keys other than ``key_ids`` sealed (what those keys cannot open)."""
        return SealedSecrets(
            connections={k: n for k, n in self.connections.items() if k not in key_ids},
            targets={k: n for k, n in self.targets.items() if k not in key_ids},
        )

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The key ids, sorted."""
        return tuple(sorted({*self.connections, *self.targets}))

    @property
    def connection_count(self) -> int:
        """Connections in all."""
        return sum(self.connections.values())

    @property
    def target_count(self) -> int:
        """Notification targets in all."""
        return sum(self.targets.values())

    def __bool__(self) -> bool:
        return bool(self.connection_count or self.target_count)

    def describe(self) -> str:
        """E.g. ``"2 connection(s) and 1 notification target(s), sealed by key 0123456789ab"``."""
        keys = ", ".join(self.key_ids)
        word = "key" if len(self.key_ids) == 1 else "keys"
        return (
            f"{self.connection_count} connection(s) and {self.target_count} notification "
            f"target(s), sealed by {word} {keys}"
        )


async def sealed_secrets(url: str) -> SealedSecrets:
    """Count the sealed secrets of the database at ``url`` by the key id that sealed them.

    A SQLite file that does not exist is not created: it holds nothing.

    :raises ConfigurationError: the URL is not valid.
    :raises DatabaseUnavailable: the database cannot be reached or opened.
    :raises RepositoryError: the database cannot be read.
    """
    from tradecore_adapters.sqlalchemy.schema_version import connect, translating

    engine = create_engine(url, for_migrations=True)
    if is_sqlite(engine.url) and not Path(engine.url.database or "").expanduser().exists():
        await engine.dispose()
        return SealedSecrets(connections={}, targets={})
    try:
        with translating(describe_url(engine.url), "reading the secrets of"):
            async with connect(engine) as connection:
                return await connection.run_sync(_count)
    finally:
        await engine.dispose()


def _count(connection: Connection) -> SealedSecrets:
    present = set(inspect(connection).get_table_names())
    counts: list[dict[str, int]] = []
    for table in (broker_connections, notification_targets):
        if table.name not in present:
            counts.append({})
            continue
        rows = connection.execute(
            select(table.c.key_id, func.count()).group_by(table.c.key_id)
        ).all()
        counts.append({str(key_id): int(n) for key_id, n in rows})
    return SealedSecrets(connections=counts[0], targets=counts[1])
