"""The tables of the SQL repository. They belong to this adapter: the domain classes are never
mapped onto them; :mod:`._rows` converts rows to domain objects and back.

Every row that belongs to a user carries ``user_id``, and rows below a connection reference it by
``(user_id, connection_id)``, so the database itself refuses a row that mixes two users' data and
removing a user or a connection removes everything under it (``ON DELETE CASCADE``).

Every constraint and index is named (:data:`NAMING_CONVENTION`): migrations can then alter them on
both backends (SQLite alters tables by copying them, which needs names).

Changing a table means adding a migration: ``nox -s migrations`` (``alembic check``) fails when
these tables and the migrations disagree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from tradecore_adapters.sqlalchemy._types import ExactDecimal, UtcDateTime

__all__ = [
    "NAMING_CONVENTION",
    "api_tokens",
    "automation_configs",
    "automation_daemons",
    "automation_runs",
    "broker_connections",
    "equity_points",
    "lease_audit",
    "metadata",
    "notification_targets",
    "orders",
    "positions",
    "risk_limits",
    "run_steps",
    "shared_limits",
    "strategies",
    "sync_cursors",
    "trades",
    "trading_halt",
    "users",
    "venue_entries",
    "venue_states",
    "web_sessions",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

_ID = 64
_NAME = 200
_SYMBOL = 100
_CODE = 32
_Json = JSON().with_variant(JSONB(), "postgresql")
# A 64-bit surrogate key; SQLite needs exactly INTEGER for its auto-incrementing rowid alias.
_RowId = BigInteger().with_variant(Integer(), "sqlite")


def _instrument_columns() -> list[Column[object]]:
    return [
        Column("symbol", String(_SYMBOL), nullable=False),
        Column("asset_type", String(_CODE), nullable=False),
        Column("broker_key", String(_SYMBOL)),
        Column("base", String(_CODE)),
        Column("quote", String(_CODE)),
    ]


def _owned_by_connection(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["user_id", "connection_id"],
        ["broker_connections.user_id", "broker_connections.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_connection",
    )


users = Table(
    "users",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("name", String(_NAME), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # Migration 0008 (docs/accounts.md): the administrator flag and the Argon2 hash of the
    # password (NULL: no password, the user cannot log in to the web).
    Column("is_admin", Boolean, nullable=False, server_default=false()),
    Column("password_hash", String(255), nullable=True),
    # Migration 0012: the language the user chose for the pages; NULL: the browser's.
    Column("language", String(8), nullable=True),
    UniqueConstraint("name"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("user_id", String(_ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # SHA-256 of the token, hex: the token itself is never stored (docs/accounts.md).
    Column("digest", String(64), nullable=False),
    # Space-separated scopes, sorted: "execute read write".
    Column("scopes", String(64), nullable=False),
    Column("name", String(_NAME), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_used_at", UtcDateTime(), nullable=True),
    Column("expires_at", UtcDateTime(), nullable=True),
    UniqueConstraint("digest"),
    Index("ix_api_tokens_user_id", "user_id"),
)

broker_connections = Table(
    "broker_connections",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("user_id", String(_ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("broker", String(_NAME), nullable=False),
    Column("name", String(_NAME), nullable=False),
    Column("settings", _Json, nullable=False),
    # Fernet tokens of the JSON secrets and OAuth state, bound to this row (never plaintext).
    Column("secrets_enc", Text, nullable=False),
    Column("tokens_enc", Text),
    # Which key encrypted the two columns above: `tradecore secrets rotate` skips rows already
    # under the newest key, so an interrupted rotation resumes where it stopped.
    Column("key_id", String(_CODE), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("user_id", "name"),
    UniqueConstraint("user_id", "id"),
    Index(None, "key_id"),
)

notification_targets = Table(
    "notification_targets",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("user_id", String(_ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("notifier", String(_NAME), nullable=False),
    Column("name", String(_NAME), nullable=False),
    Column("settings", _Json, nullable=False),
    # A Fernet token of the JSON secrets (a bot token…), bound to this row and column; key_id
    # as in broker_connections.
    Column("secrets_enc", Text, nullable=False),
    Column("key_id", String(_CODE), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("user_id", "name"),
    Index(None, "key_id"),
)

positions = Table(
    "positions",
    metadata,
    Column("user_id", String(_ID), nullable=False),
    Column("connection_id", String(_ID), nullable=False),
    Column("account_id", String(_NAME), nullable=False),
    *_instrument_columns(),
    Column("quantity", ExactDecimal(), nullable=False),
    Column("average_price", ExactDecimal()),
    Column("currency", String(_CODE)),
    Column("market_value", ExactDecimal()),
    Column("unrealized_pnl", ExactDecimal()),
    Column("as_of", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("connection_id", "account_id", "symbol"),
    _owned_by_connection("positions"),
    Index(None, "user_id", "connection_id"),
)

trades = Table(
    "trades",
    metadata,
    Column("id", _RowId, primary_key=True, autoincrement=True),
    Column("user_id", String(_ID), nullable=False),
    Column("connection_id", String(_ID), nullable=False),
    Column("account_id", String(_NAME), nullable=False),
    *_instrument_columns(),
    Column("broker_trade_id", String(_NAME), nullable=False),
    Column("broker_order_id", String(_NAME)),
    Column("client_order_id", String(_ID)),
    Column("side", String(8), nullable=False),
    Column("quantity", ExactDecimal(), nullable=False),
    Column("price", ExactDecimal(), nullable=False),
    Column("fee", ExactDecimal(), nullable=False),
    Column("fee_asset", String(_CODE)),
    Column("executed_at", UtcDateTime(), nullable=False),
    # The natural key: inserting a fill again changes nothing.
    UniqueConstraint("connection_id", "account_id", "symbol", "broker_trade_id"),
    _owned_by_connection("trades"),
    # Pages of trades, newest first (keyset on executed_at, id): all of a user's, or one
    # connection's; the first also serves list() by start time.
    Index(None, "user_id", "executed_at", "id"),
    Index(None, "user_id", "connection_id", "executed_at", "id"),
)

# Migration 0009 (docs/persistence.md#equity-history): each connection's market value at each
# sync, one row per currency; kept by Retention.equity_age.
equity_points = Table(
    "equity_points",
    metadata,
    Column("user_id", String(_ID), nullable=False),
    Column("connection_id", String(_ID), nullable=False),
    Column("currency", String(_CODE), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("value", ExactDecimal(), nullable=False),
    Column("priced", Integer, nullable=False),
    Column("unpriced", Integer, nullable=False),
    PrimaryKeyConstraint("connection_id", "currency", "at"),
    _owned_by_connection("equity_points"),
    Index(None, "user_id", "connection_id", "at"),
    Index(None, "at"),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("user_id", String(_ID), nullable=False),
    Column("connection_id", String(_ID), nullable=False),
    Column("account_id", String(_NAME), nullable=False),
    Column("cursor", Text, nullable=False),
    PrimaryKeyConstraint("connection_id", "account_id"),
    _owned_by_connection("sync_cursors"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", _RowId, primary_key=True, autoincrement=True),
    Column("user_id", String(_ID), nullable=False),
    Column("connection_id", String(_ID), nullable=False),
    Column("account_id", String(_NAME), nullable=False),
    Column("client_order_id", String(_ID), nullable=False),
    Column("broker_order_id", String(_NAME)),
    *_instrument_columns(),
    Column("side", String(8), nullable=False),
    Column("order_type", String(_CODE), nullable=False),
    Column("quantity", ExactDecimal(), nullable=False),
    Column("limit_price", ExactDecimal()),
    Column("time_in_force", String(_CODE), nullable=False),
    Column("status", String(_CODE), nullable=False),
    Column("filled_quantity", ExactDecimal(), nullable=False),
    Column("average_fill_price", ExactDecimal()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime()),
    Column("reason", Text),
    # The strategy that asked for the order, NULL for one placed by hand. Deliberately no
    # foreign key: orders are the money ledger and outlive a removed strategy.
    Column("strategy_id", String(_ID)),
    # Lookups by client id that found nothing since the order was recorded (NOT_PLACED).
    Column("missing_lookups", Integer, nullable=False, server_default=text("0")),
    # A durable intent: a second row with the same client id means "already submitted".
    UniqueConstraint("connection_id", "account_id", "client_order_id"),
    _owned_by_connection("orders"),
    Index(None, "user_id", "client_order_id"),
    Index(None, "user_id", "status"),
    Index(None, "user_id", "strategy_id"),
    # Pages of orders, newest first (keyset on created_at, id).
    Index(None, "user_id", "created_at", "id"),
)

strategies = Table(
    "strategies",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("user_id", String(_ID), nullable=False),
    Column("name", String(_NAME), nullable=False),
    Column("strategy_type", String(_NAME), nullable=False),
    Column("connection_id", String(_ID), nullable=False),
    Column("parameters", _Json, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # What the strategy remembers between cycles: a JSON object of text values.
    Column("state", _Json, nullable=False, server_default=text("'{}'")),
    UniqueConstraint("user_id", "name"),
    _owned_by_connection("strategies"),
)

automation_configs = Table(
    "automation_configs",
    metadata,
    Column("user_id", String(_ID), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("state", String(_CODE), nullable=False),
    Column("frequency_minutes", Integer, nullable=False),
    Column("next_due_at", UtcDateTime()),
    Column("last_run_at", UtcDateTime()),
    # A run asked for with run-now, served by the next claim whatever the state.
    Column("run_requested_at", UtcDateTime()),
    # The lease slot of the user's cycle (see _leases.py). Only the lease repository writes these
    # columns; saving a config never touches them. lease_until is by the store's clock.
    Column("leased_by", String(_NAME)),
    Column("lease_until", UtcDateTime()),
    # Incremented by every claim, never reset: a write under an older token is refused.
    Column("fencing", BigInteger, nullable=False, server_default=text("0")),
    # The run id of the current (or last, lapsed) lease, for a taking-over owner to close.
    Column("lease_run_id", String(_ID)),
    CheckConstraint(text("frequency_minutes BETWEEN 5 AND 120"), name="frequency_range"),
)

# The lease audit: one row per claim, closed on release (or left to lapse at expires_at), so that
# tests and operators can check that no two leases of a user ever overlapped.
lease_audit = Table(
    "lease_audit",
    metadata,
    Column("id", _RowId, primary_key=True, autoincrement=True),
    Column("user_id", String(_ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("owner", String(_NAME), nullable=False),
    Column("fencing", BigInteger, nullable=False),
    Column("run_id", String(_ID), nullable=False),
    Column("claimed_at", UtcDateTime(), nullable=False),
    # Moved on by every renewal.
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("released_at", UtcDateTime()),
    # 'completed' or 'released'; NULL while held or when the lease lapsed.
    Column("outcome", String(_CODE)),
    Index(None, "user_id", "fencing"),
)

# Running schedulers, as they register themselves (seen_at: the store's clock at their last
# heartbeat).
automation_daemons = Table(
    "automation_daemons",
    metadata,
    Column("owner", String(_NAME), primary_key=True),
    Column("host", String(_NAME), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("seen_at", UtcDateTime(), nullable=False),
)

shared_limits = Table(
    "shared_limits",
    metadata,
    # What every process of the deployment obeys together (tradecore.ports.SharedLimits): a row
    # per key and window. Times are integer microseconds since the epoch, so one atomic
    # statement can add and compare them alike on SQLite and PostgreSQL. window_start is 0 for
    # a key's block or slot row; `until` is the window's end, the block's end or the next slot.
    Column("key", String(_NAME), primary_key=True),
    Column("window_start", BigInteger, primary_key=True, autoincrement=False),
    Column("used", BigInteger, nullable=False),
    Column("until", BigInteger, nullable=False),
    Column("reason", String(_CODE)),
    # A window's limit: the smallest any reservation gave (NULL: none yet).
    Column("ceiling", BigInteger),
    Index(None, "until"),
)

risk_limits = Table(
    "risk_limits",
    metadata,
    Column("user_id", String(_ID), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # NULL: no limit. max_orders_per_cycle is stored as given (NULL is not the default 10).
    Column("max_order_notional", ExactDecimal()),
    Column("max_cycle_notional", ExactDecimal()),
    Column("max_orders_per_cycle", Integer),
    # A sorted JSON list of symbols; NULL allows every instrument, [] none.
    Column("allowed_instruments", _Json),
)

# The global kill switch: one row (id 1) while trading is halted, none otherwise.
trading_halt = Table(
    "trading_halt",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("reason", Text, nullable=False),
    Column("since", UtcDateTime(), nullable=False),
    CheckConstraint(text("id = 1"), name="single_row"),
)

automation_runs = Table(
    "automation_runs",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("user_id", String(_ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("trigger", String(_CODE), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("status", String(_CODE)),
    Column("digest", String(_CODE)),
    Column("digest_claim", BigInteger),
    # Pages of runs, newest first (keyset on started_at, id), and the newest N of list().
    Index(None, "user_id", "started_at", "id"),
)

run_steps = Table(
    "run_steps",
    metadata,
    Column(
        "run_id",
        String(_ID),
        ForeignKey("automation_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("kind", String(_CODE), nullable=False),
    Column("subject", String(_NAME), nullable=False),
    Column("subject_id", String(_ID)),
    Column("status", String(_CODE), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("duration_us", BigInteger, nullable=False),
    Column("counts", _Json, nullable=False),
    Column("api", _Json, nullable=False),
    Column("error", Text),
    Column("notes", _Json, nullable=False),
    PrimaryKeyConstraint("run_id", "position"),
)

# Simulated venues (the paper broker's exchange, tradecore.ports.venues): per connection one
# state the plugin writes (NULL until the first save; the row exists so that it can be locked)
# and a log of entries (its fills) numbered by the plugin from 1.
venue_states = Table(
    "venue_states",
    metadata,
    Column("user_id", String(_ID), nullable=False),
    Column("connection_id", String(_ID), primary_key=True),
    Column("state", Text),
    _owned_by_connection("venue_states"),
)

venue_entries = Table(
    "venue_entries",
    metadata,
    Column("user_id", String(_ID), nullable=False),
    Column("connection_id", String(_ID), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    PrimaryKeyConstraint("connection_id", "seq"),
    _owned_by_connection("venue_entries"),
)

# Browser sessions of the web front end (tradecore.ports.WebSessionRepository), shared by every
# web server on the database: the SHA-256 digest of the session id (never the id), the data the
# front end serialised, and the expiry as integer microseconds since the epoch.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index(None, "expires_at"),
)
