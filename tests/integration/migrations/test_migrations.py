"""The Alembic migrations shipped in the package, run for real on SQLite and on PostgreSQL.

Upgrading an empty database creates exactly the tables of ``schema.py`` (``check_drift`` proves
it), downgrading removes them, and ``ensure_at_head`` refuses every database that is not at head
with a message that says what to run. Where a later revision is needed, a copy of the shipped
migrations gains a test revision :data:`NEXT` on top of the shipped head (the "next
release"), so the shipped chain is what runs. Each shipped revision also round-trips (upgrade,
downgrade, upgrade) with data in the tables it leaves alone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, func, inspect, select, text

from tradecore.errors import ConfigurationError, RepositoryError
from tradecore_adapters.sqlalchemy import migrate, schema_version
from tradecore_adapters.sqlalchemy._engine import create_engine, describe_url
from tradecore_adapters.sqlalchemy.migrate import (
    DatabaseUnavailable,
    SchemaDrift,
    SchemaNotAtHead,
    check_drift,
    current_revision,
    downgrade,
    ensure_at_head,
    head_revision,
    upgrade,
)
from tradecore_adapters.sqlalchemy.schema import (
    automation_configs,
    automation_daemons,
    automation_runs,
    broker_connections,
    lease_audit,
    metadata,
    notification_targets,
    orders,
    risk_limits,
    strategies,
    trading_halt,
    users,
    venue_entries,
    venue_states,
)
from tradecore_adapters.sqlalchemy.schema_version import revisions_in, shipped_revisions

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
SHIPPED = Path(migrate.__file__).parent / "migrations"
TRADECORE_TABLES = set(metadata.tables)
NOW = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
LEASE_COLUMNS = (
    automation_configs.c.run_requested_at,
    automation_configs.c.leased_by,
    automation_configs.c.lease_until,
    automation_configs.c.fencing,
    automation_configs.c.lease_run_id,
)

SHIPPED_HEAD = head_revision()
"""The newest shipped revision: the test releases below sit on it."""
NEXT = "0999"
"""The revision of a test release (the "next release")."""

# A later release adds a column; on SQLite its downgrade copies `users` (batch "move and copy"),
# which would cascade-delete every connection if foreign keys were on while migrating.
NEXT_RELEASE = """
    revision = "@NEXT@"
    down_revision = "@HEAD@"


    def upgrade() -> None:
        with op.batch_alter_table("users") as batch:
            batch.add_column(sa.Column("nickname", sa.String(200), nullable=True))


    def downgrade() -> None:
        with op.batch_alter_table("users") as batch:
            batch.drop_column("nickname")
"""

# A broken release leaves a connection pointing at a user that does not exist.
ORPHANING_RELEASE = """
    from tradecore_adapters.sqlalchemy.schema import broker_connections

    revision = "@NEXT@"
    down_revision = "@HEAD@"


    def upgrade() -> None:
        op.execute(
            broker_connections.insert().values(
                id="c-orphan", user_id="nobody", broker="paper", name="orphan", settings={},
                secrets_enc="token", key_id="k1", active=True, created_at=NOW,
            )
        )


    def downgrade() -> None:
        pass
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file in ``tmp_path``, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tradecore.db'}"
    return str(request.getfixturevalue("postgres_url"))


def release_with(body: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point ``migrate`` at a copy of the shipped migrations plus revision :data:`NEXT`."""
    location = tmp_path / "migrations"
    shutil.copytree(SHIPPED, location, ignore=shutil.ignore_patterns("__pycache__"))
    header = """
        from datetime import UTC, datetime

        import sqlalchemy as sa
        from alembic import op

        NOW = datetime(2024, 1, 2, tzinfo=UTC)
    """
    body = body.replace("@NEXT@", NEXT).replace("@HEAD@", SHIPPED_HEAD)
    (location / "versions" / f"{NEXT}_next.py").write_text(
        textwrap.dedent(header) + textwrap.dedent(body)
    )
    monkeypatch.setattr(migrate, "MIGRATIONS", str(location))
    monkeypatch.setattr(schema_version, "VERSIONS", location / "versions")
    yield


@pytest.fixture
def next_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from release_with(NEXT_RELEASE, tmp_path, monkeypatch)


@pytest.fixture
def orphaning_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from release_with(ORPHANING_RELEASE, tmp_path, monkeypatch)


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def execute(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def count(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(func.count()).select_from(metadata.tables[table])
            )
            return int(rows.scalar_one())
    finally:
        await engine.dispose()


async def ensure(url: str) -> None:
    engine = create_engine(url)
    try:
        await ensure_at_head(engine)
    finally:
        await engine.dispose()


async def insert_user_and_connection(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(users.insert().values(id="u1", name="ann", created_at=NOW))
            await connection.execute(
                broker_connections.insert().values(
                    id="c1",
                    user_id="u1",
                    broker="paper",
                    name="main",
                    settings={"region": "eu"},
                    secrets_enc="token",
                    key_id="k1",
                    active=True,
                    created_at=NOW,
                )
            )
    finally:
        await engine.dispose()


async def insert_notification_target(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                notification_targets.insert().values(
                    id="t1",
                    user_id="u1",
                    notifier="telegram",
                    name="telegram",
                    settings={"chat_id": "-1001"},
                    secrets_enc="token",
                    key_id="k1",
                    active=True,
                    created_at=NOW,
                )
            )
    finally:
        await engine.dispose()


async def column_names(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(lambda sync: inspect(sync).get_columns(table))
            return {column["name"] for column in columns}
    finally:
        await engine.dispose()


async def one(url: str, query: Select[Any]) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(query)).one()
    finally:
        await engine.dispose()


async def insert_strategy_and_order(url: str) -> None:
    """A strategy of u1 on c1 and an order it placed, with only the columns revision 0002 has."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                strategies.insert().values(
                    id="s1",
                    user_id="u1",
                    name="dca-btc",
                    strategy_type="dca",
                    connection_id="c1",
                    parameters={"amount": "25"},
                    active=True,
                    dry_run=False,
                    created_at=NOW,
                )
            )
            await connection.execute(
                orders.insert().values(
                    user_id="u1",
                    connection_id="c1",
                    account_id="spot",
                    client_order_id="o1",
                    symbol="BTCUSDT",
                    asset_type="spot",
                    side="buy",
                    order_type="market",
                    quantity=Decimal("0.10"),
                    time_in_force="gtc",
                    status="filled",
                    filled_quantity=Decimal("0.10"),
                    created_at=NOW,
                )
            )
    finally:
        await engine.dispose()


async def insert_limits_and_halt(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                risk_limits.insert().values(
                    user_id="u1",
                    max_order_notional=Decimal("1000.50"),
                    max_cycle_notional=None,
                    max_orders_per_cycle=None,
                    allowed_instruments=["BTCUSDT"],
                )
            )
            await connection.execute(
                trading_halt.insert().values(id=1, reason="maintenance", since=NOW)
            )
    finally:
        await engine.dispose()


async def insert_automation_config(url: str) -> None:
    """An automation config of u1 with only the columns revision 0003 has."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                automation_configs.insert().values(
                    user_id="u1", state="active", frequency_minutes=30, next_due_at=NOW
                )
            )
    finally:
        await engine.dispose()


async def insert_lease_and_daemon(url: str) -> None:
    """u1's config leased (token 1) with its audit record, and a registered daemon."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                automation_configs.update().values(
                    leased_by="host:1:daemon",
                    lease_until=NOW,
                    fencing=automation_configs.c.fencing + 1,
                    lease_run_id="r1",
                )
            )
            await connection.execute(
                lease_audit.insert().values(
                    user_id="u1",
                    owner="host:1:daemon",
                    fencing=1,
                    run_id="r1",
                    claimed_at=NOW,
                    expires_at=NOW,
                )
            )
            await connection.execute(
                automation_daemons.insert().values(
                    owner="host:1:daemon", host="host", pid=1, started_at=NOW, seen_at=NOW
                )
            )
    finally:
        await engine.dispose()


def test_the_shipped_migrations_form_one_line_from_0001() -> None:
    scripts = migrate._scripts(migrate.MIGRATIONS)
    assert scripts.get_base() == "0001"
    assert scripts.get_heads() == [head_revision()]
    assert [script.revision for script in scripts.walk_revisions()] == [
        "0012",
        "0011",
        "0010",
        "0009",
        "0008",
        "0007",
        "0006",
        "0005",
        "0004",
        "0003",
        "0002",
        "0001",
    ]


def test_the_schema_check_reads_the_same_revisions_as_alembic() -> None:
    # ensure_at_head reads the migration files as text so that no command but a migration
    # imports Alembic; what it reads must be what Alembic reads.
    scripts = migrate._scripts(migrate.MIGRATIONS)
    alembic_line = [script.revision for script in scripts.walk_revisions()][::-1]
    assert list(shipped_revisions()) == alembic_line
    assert head_revision() == scripts.get_current_head()


def _migration_file(directory: Path, name: str, revision: str, down: str | None) -> None:
    down_text = "None" if down is None else f'"{down}"'
    (directory / f"{name}.py").write_text(
        f'revision: str = "{revision}"\ndown_revision: str | Sequence[str] | None = {down_text}\n'
    )


def test_the_schema_check_refuses_migrations_that_do_not_form_one_line(tmp_path: Path) -> None:
    _migration_file(tmp_path, "0001_a", "0001", None)
    _migration_file(tmp_path, "0002_b", "0002", "0001")
    assert revisions_in(tmp_path) == ("0001", "0002")
    _migration_file(tmp_path, "0003_fork", "0003", "0001")
    with pytest.raises(ConfigurationError, match="do not form one line"):
        revisions_in(tmp_path)
    (tmp_path / "0003_fork.py").unlink()
    _migration_file(tmp_path, "0003_start", "0003", None)
    with pytest.raises(ConfigurationError, match="do not form one line"):
        revisions_in(tmp_path)
    (tmp_path / "0003_start.py").write_text("# no revision here\n")
    with pytest.raises(ConfigurationError, match="names no revision"):
        revisions_in(tmp_path)


async def test_0002_adds_notification_targets_to_a_0001_database_and_downgrades_cleanly(
    url: str,
) -> None:
    await upgrade(url, "0001")
    await insert_user_and_connection(url)
    assert "notification_targets" not in await table_names(url)

    await upgrade(url, "0002")
    assert "notification_targets" in await table_names(url)
    assert (await count(url, "users"), await count(url, "broker_connections")) == (1, 1)
    await insert_notification_target(url)

    await downgrade(url, "0001")
    assert await current_revision(url) == "0001"
    assert "notification_targets" not in await table_names(url)
    assert (await count(url, "users"), await count(url, "broker_connections")) == (1, 1)

    await upgrade(url, "0002")
    assert await current_revision(url) == "0002"
    assert await count(url, "notification_targets") == 0  # a downgrade drops the targets
    await insert_notification_target(url)  # the table is back and usable
    await upgrade(url)
    await check_drift(url)
    await ensure(url)


async def test_removing_a_user_in_the_database_removes_its_notification_targets(url: str) -> None:
    await upgrade(url)
    await insert_user_and_connection(url)
    await insert_notification_target(url)

    await execute(url, "DELETE FROM users WHERE id = 'u1'")

    assert await count(url, "notification_targets") == 0


async def test_0003_adds_state_order_columns_and_risk_tables_and_downgrades_cleanly(
    url: str,
) -> None:
    await upgrade(url, "0002")
    await insert_user_and_connection(url)
    await insert_strategy_and_order(url)

    await upgrade(url, "0003")
    assert {"risk_limits", "trading_halt"} <= await table_names(url)
    # Rows written before 0003 get the defaults: no state, no strategy, no missed lookups.
    assert (await one(url, select(strategies.c.state))).state == {}
    order = await one(url, select(orders.c.strategy_id, orders.c.missing_lookups))
    assert (order.strategy_id, order.missing_lookups) == (None, 0)
    await insert_limits_and_halt(url)

    await downgrade(url, "0002")
    assert await current_revision(url) == "0002"
    assert not {"risk_limits", "trading_halt"} & await table_names(url)
    assert "state" not in await column_names(url, "strategies")
    assert not {"strategy_id", "missing_lookups"} & await column_names(url, "orders")
    counted = [await count(url, table) for table in ("users", "strategies", "orders")]
    assert counted == [1, 1, 1]

    await upgrade(url, "0003")
    assert await current_revision(url) == "0003"
    assert (await count(url, "risk_limits"), await count(url, "trading_halt")) == (0, 0)
    assert (await one(url, select(strategies.c.state))).state == {}
    await insert_limits_and_halt(url)  # the tables are back and usable
    await upgrade(url)
    await check_drift(url)
    await ensure(url)


async def test_0004_adds_run_requests_lease_columns_audit_and_daemons_and_downgrades_cleanly(
    url: str,
) -> None:
    await upgrade(url, "0003")
    await insert_user_and_connection(url)
    await insert_automation_config(url)

    await upgrade(url, "0004")
    assert {"lease_audit", "automation_daemons"} <= await table_names(url)
    # A config written before 0004: no run request, no lease, fencing token 0.
    assert await one(url, select(*LEASE_COLUMNS)) == (None, None, None, 0, None)
    await insert_lease_and_daemon(url)

    await downgrade(url, "0003")
    assert await current_revision(url) == "0003"
    assert not {"lease_audit", "automation_daemons"} & await table_names(url)
    assert not {c.name for c in LEASE_COLUMNS} & await column_names(url, "automation_configs")
    assert (await count(url, "users"), await count(url, "automation_configs")) == (1, 1)

    await upgrade(url, "0004")
    assert await current_revision(url) == "0004"
    assert (await count(url, "lease_audit"), await count(url, "automation_daemons")) == (0, 0)
    # A downgrade forgets held leases: the slot is free again, its token back to 0.
    assert await one(url, select(*LEASE_COLUMNS)) == (None, None, None, 0, None)
    await insert_lease_and_daemon(url)  # the tables are back and usable
    await upgrade(url)
    await check_drift(url)
    await ensure(url)


async def insert_finished_run(url: str, run_id: str) -> None:
    """A finished run of u1 with only the columns revision 0004 has."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                automation_runs.insert().values(
                    id=run_id,
                    user_id="u1",
                    trigger="schedule",
                    started_at=NOW,
                    finished_at=NOW,
                    status="success",
                )
            )
    finally:
        await engine.dispose()


async def test_0005_adds_the_digest_delivery_of_runs_and_downgrades_cleanly(url: str) -> None:
    digest_columns = (automation_runs.c.digest, automation_runs.c.digest_claim)
    await upgrade(url, "0004")
    await insert_user_and_connection(url)
    await insert_finished_run(url, "r1")

    await upgrade(url, "0005")
    # A run recorded before 0005 has no digest to deliver: it is never sent again.
    assert await one(url, select(*digest_columns)) == (None, None)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                automation_runs.update().values(digest="pending", digest_claim=2**40)
            )
    finally:
        await engine.dispose()
    assert await one(url, select(*digest_columns)) == ("pending", 2**40)

    await downgrade(url, "0004")
    assert not {"digest", "digest_claim"} & await column_names(url, "automation_runs")
    assert await count(url, "automation_runs") == 1

    await upgrade(url, "0005")
    assert await one(url, select(*digest_columns)) == (None, None)
    await upgrade(url)
    await check_drift(url)
    await ensure(url)


async def insert_venue(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                venue_states.insert().values(user_id="u1", connection_id="c1", state="{}")
            )
            await connection.execute(
                venue_entries.insert().values(user_id="u1", connection_id="c1", seq=1, text="{}")
            )
    finally:
        await engine.dispose()


async def test_0007_adds_the_venue_tables_and_downgrades_cleanly(url: str) -> None:
    await upgrade(url, "0006")
    await insert_user_and_connection(url)

    await upgrade(url, "0007")
    assert {"venue_states", "venue_entries"} <= await table_names(url)
    await insert_venue(url)
    await execute(url, "DELETE FROM broker_connections WHERE id = 'c1'")  # the venue goes too
    assert (await count(url, "venue_states"), await count(url, "venue_entries")) == (0, 0)
    await insert_user_and_connection_again(url)
    await insert_venue(url)

    await downgrade(url, "0006")
    assert not {"venue_states", "venue_entries"} & await table_names(url)
    assert (await count(url, "users"), await count(url, "broker_connections")) == (1, 1)
    await upgrade(url, "0007")
    assert (await count(url, "venue_states"), await count(url, "venue_entries")) == (0, 0)
    await insert_venue(url)  # the tables are back and usable
    await upgrade(url)
    await check_drift(url)
    await ensure(url)


async def test_0008_adds_accounts_and_downgrades_cleanly(url: str) -> None:
    await upgrade(url, "0007")
    await insert_user_and_connection(url)

    await upgrade(url, "0008")
    assert "api_tokens" in await table_names(url)
    await execute(url, "UPDATE users SET password_hash = 'h' WHERE id = 'u1'")
    await execute(
        url,
        "INSERT INTO api_tokens (id, user_id, digest, scopes, created_at) "
        "VALUES ('t1', 'u1', 'd1', 'read', '2026-01-05 09:00:00+00:00')",
    )
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT is_admin FROM users"))).one()
    finally:
        await engine.dispose()
    assert not row[0]  # existing users are not administrators
    await execute(url, "DELETE FROM users WHERE id = 'u1'")  # their tokens go too
    assert await count(url, "api_tokens") == 0

    await downgrade(url, "0007")
    assert "api_tokens" not in await table_names(url)
    await upgrade(url)
    await check_drift(url)
    await ensure(url)


async def index_names(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(lambda sync: inspect(sync).get_indexes(table))
    finally:
        await engine.dispose()
    return {str(index["name"]) for index in found}


async def test_0010_adds_the_paging_indexes_and_downgrades_cleanly(url: str) -> None:
    await upgrade(url, "0008")
    await insert_user_and_connection(url)

    await upgrade(url, "0010")
    trades_indexes = await index_names(url, "trades")
    assert {
        "ix_trades_user_id_executed_at_id",
        "ix_trades_user_id_connection_id_executed_at_id",
    } <= trades_indexes
    assert "ix_trades_user_id_executed_at" not in trades_indexes
    assert "ix_orders_user_id_created_at_id" in await index_names(url, "orders")
    runs_indexes = await index_names(url, "automation_runs")
    assert "ix_automation_runs_user_id_started_at_id" in runs_indexes
    assert "ix_automation_runs_user_id_started_at" not in runs_indexes

    await downgrade(url, "0008")
    assert "ix_trades_user_id_executed_at" in await index_names(url, "trades")
    assert "ix_trades_user_id_executed_at_id" not in await index_names(url, "trades")
    assert "ix_orders_user_id_created_at_id" not in await index_names(url, "orders")
    assert "ix_automation_runs_user_id_started_at" in await index_names(url, "automation_runs")
    assert (await count(url, "users"), await count(url, "broker_connections")) == (1, 1)


async def test_0012_adds_the_users_language_and_downgrades_cleanly(url: str) -> None:
    await upgrade(url, "0011")
    await insert_user_and_connection(url)

    await upgrade(url, "0012")
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT language FROM users"))).one()
    finally:
        await engine.dispose()
    assert row[0] is None  # existing users keep their browser's language
    await execute(url, "UPDATE users SET language = 'fr' WHERE id = 'u1'")

    await downgrade(url, "0011")
    assert (await count(url, "users"), await count(url, "broker_connections")) == (1, 1)
    await upgrade(url)
    await check_drift(url)
    await ensure(url)


async def test_0009_adds_the_equity_history_and_downgrades_cleanly(url: str) -> None:
    await upgrade(url, "0008")
    await insert_user_and_connection(url)

    await upgrade(url, "0009")
    assert "equity_points" in await table_names(url)
    await execute(
        url,
        "INSERT INTO equity_points (user_id, connection_id, currency, at, value, priced, unpriced) "
        "VALUES ('u1', 'c1', 'USD', '2026-01-05 09:00:00+00:00', '1000.10', 2, 0)",
    )
    await execute(url, "DELETE FROM broker_connections WHERE id = 'c1'")  # its history goes too
    assert await count(url, "equity_points") == 0

    await downgrade(url, "0008")
    assert "equity_points" not in await table_names(url)
    await upgrade(url)
    await check_drift(url)


async def test_0011_adds_web_sessions_and_downgrades_cleanly(url: str) -> None:
    await upgrade(url, "0010")
    await insert_user_and_connection(url)
    assert "web_sessions" not in await table_names(url)

    await upgrade(url, "0011")
    assert "web_sessions" in await table_names(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO web_sessions (digest, data, expires_at) VALUES (:d, :b, :e)"),
                {"d": "d" * 64, "b": b"{}", "e": 1_800_000_000_000_000},
            )
    finally:
        await engine.dispose()

    await downgrade(url, "0010")
    assert "web_sessions" not in await table_names(url)
    assert (await count(url, "users"), await count(url, "broker_connections")) == (1, 1)
    await upgrade(url)
    await check_drift(url)  # at head (0011 is no longer the newest)
    await ensure(url)


async def insert_user_and_connection_again(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                broker_connections.insert().values(
                    id="c1", user_id="u1", broker="paper", name="main", settings={},
                    secrets_enc="token", key_id="k1", active=True, created_at=NOW,
                )
            )  # fmt: skip
    finally:
        await engine.dispose()


async def test_0006_adds_shared_limits_and_downgrades_cleanly(url: str) -> None:
    await upgrade(url, "0005")
    await insert_user_and_connection(url)

    await upgrade(url, "0006")
    assert "shared_limits" in await table_names(url)
    await execute(
        url,
        "INSERT INTO shared_limits (key, window_start, used, until, reason, ceiling) "
        "VALUES ('binance:host:api.binance.com', 0, 0, 1800000000000000, 'ban', NULL)",
    )
    await upgrade(url)
    await check_drift(url)

    await downgrade(url, "0005")
    assert "shared_limits" not in await table_names(url)
    assert (await count(url, "users"), await count(url, "broker_connections")) == (1, 1)
    await upgrade(url, "0006")
    assert await count(url, "shared_limits") == 0


async def test_removing_a_user_in_the_database_removes_its_lease_audit(url: str) -> None:
    await upgrade(url)
    await insert_user_and_connection(url)
    await insert_automation_config(url)
    await insert_lease_and_daemon(url)

    await execute(url, "DELETE FROM users WHERE id = 'u1'")

    assert (await count(url, "lease_audit"), await count(url, "automation_configs")) == (0, 0)
    assert await count(url, "automation_daemons") == 1  # a daemon is nobody's


async def test_removing_a_strategy_keeps_its_orders_and_removing_a_user_its_limits(
    url: str,
) -> None:
    await upgrade(url)
    await insert_user_and_connection(url)
    await insert_strategy_and_order(url)
    await execute(url, "UPDATE orders SET strategy_id = 's1'")
    await insert_limits_and_halt(url)

    # Orders are the money ledger: no foreign key makes them go with (or block) their strategy.
    await execute(url, "DELETE FROM strategies WHERE id = 's1'")
    assert (await one(url, select(orders.c.strategy_id))).strategy_id == "s1"

    await execute(url, "DELETE FROM users WHERE id = 'u1'")
    assert (await count(url, "risk_limits"), await count(url, "orders")) == (0, 0)
    assert await count(url, "trading_halt") == 1  # global, nobody's


async def test_upgrade_creates_exactly_the_declared_tables(url: str) -> None:
    await upgrade(url)

    assert await table_names(url) == TRADECORE_TABLES | {"alembic_version"}
    assert await current_revision(url) == head_revision()
    await check_drift(url)  # schema.py and the migrations agree
    await ensure(url)


async def test_upgrade_at_head_changes_nothing(url: str) -> None:
    await upgrade(url)
    await insert_user_and_connection(url)

    await upgrade(url)

    assert await current_revision(url) == head_revision()
    assert await count(url, "broker_connections") == 1


async def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(url: str) -> None:
    await upgrade(url)
    await downgrade(url, "base")

    assert await table_names(url) & TRADECORE_TABLES == set()
    assert await current_revision(url) is None

    await upgrade(url)
    assert await current_revision(url) == head_revision()
    await check_drift(url)


async def test_check_drift_lists_what_differs(url: str) -> None:
    await upgrade(url)
    await execute(url, "ALTER TABLE users ADD COLUMN nickname VARCHAR(200)")

    with pytest.raises(SchemaDrift, match="add a migration for") as raised:
        await check_drift(url)

    assert raised.value.differences == ("remove column users.nickname",)


async def test_check_drift_needs_a_database_at_head(url: str) -> None:
    with pytest.raises(SchemaNotAtHead):
        await check_drift(url)


async def test_ensure_at_head_refuses_an_empty_database(url: str) -> None:
    with pytest.raises(SchemaNotAtHead) as raised:
        await ensure(url)

    assert str(raised.value) == (
        f"the database at {describe_url(create_engine(url).url)} has no tradecore tables yet; "
        "run `tradecore init` (or `tradecore db upgrade`)"
    )
    assert raised.value.current is None
    assert raised.value.head == head_revision()


async def test_ensure_at_head_refuses_a_database_downgraded_to_base(url: str) -> None:
    await upgrade(url)
    await downgrade(url, "base")

    with pytest.raises(SchemaNotAtHead, match="has no tradecore tables yet"):
        await ensure(url)


@pytest.mark.usefixtures("next_release")
async def test_ensure_at_head_refuses_an_older_revision(url: str) -> None:
    await upgrade(url, SHIPPED_HEAD)

    with pytest.raises(SchemaNotAtHead) as raised:
        await ensure(url)

    assert (
        f"is at revision {SHIPPED_HEAD} but this tradecore needs {NEXT}; run `tradecore db upgrade`"
        in str(raised.value)
    )
    assert (raised.value.current, raised.value.head) == (SHIPPED_HEAD, NEXT)

    await upgrade(url)
    await ensure(url)


async def test_a_revision_from_a_newer_tradecore_is_refused(url: str) -> None:
    await upgrade(url)
    await execute(url, "UPDATE alembic_version SET version_num = 'f00d'")

    message = "was migrated by a newer tradecore (revision f00d); upgrade tradecore"
    with pytest.raises(SchemaNotAtHead, match=re.escape(message)):
        await ensure(url)
    with pytest.raises(SchemaNotAtHead, match="newer tradecore") as raised:
        await upgrade(url)
    assert raised.value.current == "f00d"
    assert await current_revision(url) == "f00d"


@pytest.mark.usefixtures("next_release")
async def test_data_survives_a_downgrade_and_upgrade(url: str) -> None:
    await upgrade(url)
    await insert_user_and_connection(url)

    await downgrade(url, "-1")
    assert await current_revision(url) == SHIPPED_HEAD
    assert (await count(url, "users"), await count(url, "broker_connections")) == (1, 1)

    await upgrade(url)
    assert await current_revision(url) == NEXT
    assert (await count(url, "users"), await count(url, "broker_connections")) == (1, 1)


@pytest.mark.usefixtures("orphaning_release")
async def test_a_failed_migration_leaves_the_database_as_it_was(url: str) -> None:
    await upgrade(url, SHIPPED_HEAD)

    # SQLite: PRAGMA foreign_key_check before COMMIT; PostgreSQL: the foreign key itself.
    with pytest.raises(RepositoryError):
        await upgrade(url)

    assert await current_revision(url) == SHIPPED_HEAD
    assert await count(url, "broker_connections") == 0


async def test_an_unknown_target_revision_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"the upgrade of the database at .* failed"):
        await upgrade(url, "nonsense")


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(upgrade, id="upgrade"),
        pytest.param(lambda url: downgrade(url, "base"), id="downgrade"),
        pytest.param(current_revision, id="current_revision"),
        pytest.param(check_drift, id="check_drift"),
        pytest.param(ensure, id="ensure_at_head"),
    ],
)
async def test_an_unreachable_postgresql_is_unavailable_without_its_password(
    operation: Callable[[str], Awaitable[object]],
) -> None:
    url = "postgresql://u:canarypass@127.0.0.1:1/x"  # nothing listens on port 1

    with pytest.raises(DatabaseUnavailable) as raised:
        await operation(url)

    message = str(raised.value)
    assert message.startswith("cannot connect to the database at postgresql+psycopg://u:***@")
    assert "canarypass" not in message
    assert "\n" not in message


async def test_a_sqlite_file_in_a_missing_directory_is_unavailable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'tradecore.db'}"

    with pytest.raises(DatabaseUnavailable, match="cannot connect to the database at sqlite"):
        await upgrade(url)
    with pytest.raises(DatabaseUnavailable, match="unable to open database file"):
        await ensure(url)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes everywhere"
)
async def test_a_sqlite_file_in_an_unwritable_directory_is_unavailable(tmp_path: Path) -> None:
    directory = tmp_path / "readonly"
    directory.mkdir(mode=0o500)
    try:
        with pytest.raises(DatabaseUnavailable):
            await upgrade(f"sqlite:///{directory / 'tradecore.db'}")
    finally:
        directory.chmod(0o700)


def test_the_alembic_cli_uses_the_repository_ini_and_the_environment(tmp_path: Path) -> None:
    environment = {**os.environ, "TRADECORE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    for arguments in (["upgrade", "head"], ["check"], ["current"]):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "alembic",
                "-c",
                str(REPOSITORY_ROOT / "alembic.ini"),
                *arguments,
            ],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr

    assert result.stdout.strip() == f"{head_revision()} (head)"
