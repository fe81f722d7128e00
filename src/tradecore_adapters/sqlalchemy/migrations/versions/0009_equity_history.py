"""Equity history (docs/persistence.md): each broker connection's market value at each sync.

* ``equity_points``: one row per ``(connection, currency, sync time)``: the sum of the market
  values the broker reported for the connection's positions in that currency, how many
  positions it counts (``priced``) and how many had no market value or currency
  (``unpriced``); owned by the connection (``ON DELETE CASCADE``). Indexed on
  ``(user_id, connection_id, at)`` for the chart's range queries and on ``at`` for pruning.

Existing databases start with an empty history: the first sync after the upgrade records the
first points. Downgrading drops the table and the whole history.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tradecore_adapters.sqlalchemy._types

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "equity_points",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("connection_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=32), nullable=False),
        sa.Column("at", tradecore_adapters.sqlalchemy._types.UtcDateTime(), nullable=False),
        sa.Column("value", tradecore_adapters.sqlalchemy._types.ExactDecimal(), nullable=False),
        sa.Column("priced", sa.Integer(), nullable=False),
        sa.Column("unpriced", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id", "connection_id"],
            ["broker_connections.user_id", "broker_connections.id"],
            name="fk_equity_points_connection",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "currency", "at", name=op.f("pk_equity_points")),
    )
    op.create_index(
        "ix_equity_points_user_id_connection_id_at",
        "equity_points",
        ["user_id", "connection_id", "at"],
        unique=False,
    )
    op.create_index("ix_equity_points_at", "equity_points", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_equity_points_at", table_name="equity_points")
    op.drop_index("ix_equity_points_user_id_connection_id_at", table_name="equity_points")
    op.drop_table("equity_points")
