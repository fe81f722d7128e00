"""Shared limits: ``shared_limits``, one row per key and window, what every process obeys
together (a Binance ban or Retry-After pause per host, request weight per minute, order counts,
Saxo's and Telegram's pacing). Times are integer microseconds since the epoch; ``window_start``
is 0 for a key's block or slot row; ``ceiling`` is a window's limit, the smallest any process
gave. Nothing in it outlives an hour or so: downgrading drops it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shared_limits",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("until", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("ceiling", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_shared_limits")),
    )
    op.create_index(op.f("ix_shared_limits_until"), "shared_limits", ["until"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_shared_limits_until"), table_name="shared_limits")
    op.drop_table("shared_limits")
