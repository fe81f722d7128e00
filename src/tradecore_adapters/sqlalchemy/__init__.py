"""The SQL repository: tradecore's data in SQLite or PostgreSQL through SQLAlchemy Core.

:class:`SqlRepository` implements :class:`~tradecore.ports.RepositoryPort` over its own tables
(:mod:`.schema`), with secrets encrypted at rest and migrations (:mod:`.migrate`) shipped inside
the package.
"""

from tradecore_adapters.sqlalchemy._directory import SecretsUnreadable
from tradecore_adapters.sqlalchemy._engine import (
    create_engine,
    database_url,
    describe_url,
    is_sqlite,
)
from tradecore_adapters.sqlalchemy._limits import SqlSharedLimits
from tradecore_adapters.sqlalchemy._rows import UnreadableRow
from tradecore_adapters.sqlalchemy._unit_of_work import SqlUnitOfWork
from tradecore_adapters.sqlalchemy._web_sessions import SqlWebSessions
from tradecore_adapters.sqlalchemy.repository import RotationReport, SqlRepository

__all__ = [
    "RotationReport",
    "SecretsUnreadable",
    "SqlRepository",
    "SqlSharedLimits",
    "SqlUnitOfWork",
    "SqlWebSessions",
    "UnreadableRow",
    "create_engine",
    "database_url",
    "describe_url",
    "is_sqlite",
]
