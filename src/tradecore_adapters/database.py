"""What a front end does to the database itself, not to the data in it: open it with its keys,
bring its schema to the newest migration, say where it stands, re-encrypt the stored secrets
under the newest key.
Re-exported by :mod:`tradecore_adapters.bootstrap`, so front ends never import the SQL adapter.
See ``docs/persistence.md`` and ``docs/security.md``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from attrs import frozen

from tradecore_adapters.settings import Settings

if TYPE_CHECKING:
    from tradecore_adapters.encryption import KeyRing
    from tradecore_adapters.sqlalchemy import SqlRepository

__all__ = [
    "Rotation",
    "SchemaState",
    "key_ring_of",
    "open_repository",
    "rotate_secrets",
    "schema_state",
    "upgrade_schema",
]


@frozen(kw_only=True)
class SchemaState:
    """Where the database's schema stands.

    :param database: the database, described without its password.
    :param current: its revision (``None``: empty).
    :param head: the newest revision this tradecore knows.
    """

    database: str
    current: str | None
    head: str

    @property
    def at_head(self) -> bool:
        """``True`` when the schema is the newest."""
        return self.current == self.head


@frozen(kw_only=True)
class Rotation:
    """What re-encrypting did: how many connections and targets, under which key (its id)."""

    connections: int
    targets: int
    key_id: str


def key_ring_of(settings: Settings) -> KeyRing:
    """The keys of ``settings``: ``TRADECORE_SECRET_KEY`` when set, else the key file in the home.

    :raises SecretKeyError: no key anywhere, a key that is not a Fernet key, or a key file that
        others may read; the message says what to do.
    """
    from tradecore_adapters.encryption import load_key_ring

    keys = settings.secret_keys
    return load_key_ring(
        environ_keys=None if keys is None else keys.reveal(), key_file=settings.key_file
    )


async def open_repository(settings: Settings) -> SqlRepository:
    """Open the SQL repository of ``settings`` (its database and keys).

    :raises SecretKeyError: see :func:`key_ring_of`.
    :raises SchemaNotAtHead: the database needs ``tradecore init`` or ``tradecore db upgrade``.
    :raises DatabaseUnavailable: the database cannot be reached.
    """
    from tradecore_adapters.sqlalchemy import SqlRepository

    key_ring = key_ring_of(settings)
    return await SqlRepository.open(settings.database, key_ring=key_ring)


async def schema_state(settings: Settings) -> SchemaState:
    """Where the schema of ``settings``' database stands (nothing is changed).

    :raises DatabaseUnavailable: the database cannot be reached.
    """
    from tradecore_adapters.sqlalchemy import describe_url
    from tradecore_adapters.sqlalchemy.migrate import current_revision, head_revision

    current = await current_revision(settings.database)
    return SchemaState(
        database=describe_url(settings.database), current=current, head=head_revision()
    )


async def upgrade_schema(settings: Settings) -> tuple[SchemaState, SchemaState]:
    """Bring the schema to the newest migration; safe to run again.

    :returns: where it stood before, and where it stands now.
    :raises DatabaseUnavailable: the database cannot be reached.
    """
    from tradecore_adapters.sqlalchemy.migrate import upgrade

    before = await schema_state(settings)
    await upgrade(settings.database)
    return before, await schema_state(settings)


async def rotate_secrets(settings: Settings, *, batch_size: int = 100) -> Rotation:
    """Re-encrypt every stored secret under the newest key, ``batch_size`` rows per transaction
    (see ``tradecore secrets rotate``).

    :raises SecretKeyError, SchemaNotAtHead, DatabaseUnavailable: see
        :func:`open_repository`.
    """
    repository = await open_repository(settings)
    try:
        report = await repository.rotate_secrets(batch_size=batch_size)
        return Rotation(
            connections=report.rotated, targets=report.rotated_targets, key_id=repository.key_id
        )
    finally:
        await repository.aclose()
