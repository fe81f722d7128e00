"""Keyset paging (docs/persistence.md, "Paging"): indexes that serve a page of trades, orders
or runs, newest first, from the cursor on, without reading the rest of the user's history.

* ``trades``: ``(user_id, executed_at, id)`` replaces ``(user_id, executed_at)`` (it serves
  everything the old one did, and the tie-breaker too), and ``(user_id, connection_id,
  executed_at, id)`` serves one connection's pages.
* ``orders``: ``(user_id, created_at, id)``.
* ``automation_runs``: ``(user_id, started_at, id)`` replaces ``(user_id, started_at)``.

Only indexes change: no row is touched, and downgrading restores the old ones.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_trades_user_id_executed_at_id", "trades", ["user_id", "executed_at", "id"])
    op.create_index(
        "ix_trades_user_id_connection_id_executed_at_id",
        "trades",
        ["user_id", "connection_id", "executed_at", "id"],
    )
    op.drop_index("ix_trades_user_id_executed_at", table_name="trades")
    op.create_index("ix_orders_user_id_created_at_id", "orders", ["user_id", "created_at", "id"])
    op.create_index(
        "ix_automation_runs_user_id_started_at_id",
        "automation_runs",
        ["user_id", "started_at", "id"],
    )
    op.drop_index("ix_automation_runs_user_id_started_at", table_name="automation_runs")


def downgrade() -> None:
    op.create_index(
        "ix_automation_runs_user_id_started_at", "automation_runs", ["user_id", "started_at"]
    )
    op.drop_index("ix_automation_runs_user_id_started_at_id", table_name="automation_runs")
    op.drop_index("ix_orders_user_id_created_at_id", table_name="orders")
    op.create_index("ix_trades_user_id_executed_at", "trades", ["user_id", "executed_at"])
    op.drop_index("ix_trades_user_id_connection_id_executed_at_id", table_name="trades")
    op.drop_index("ix_trades_user_id_executed_at_id", table_name="trades")
