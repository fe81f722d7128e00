"""Digest delivery: where the digest of each finished run stands.

* ``automation_runs.digest``: ``pending`` from the moment the run is finished until every
  notification target was sent the digest once (its ``notify`` step recorded), then
  ``delivered``; NULL for runs without one (unfinished, closed by another scheduler, and every
  run recorded before this revision: their digests are not sent again).
* ``automation_runs.digest_claim``: the fencing token of the lease that took the delivery (0:
  a cycle run outside a lease); NULL while unclaimed.

Written by hand (two nullable columns, batch mode for SQLite). Downgrading drops them and what
they hold: a digest still pending is then never delivered.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("automation_runs") as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("digest_claim", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("automation_runs") as batch_op:
        batch_op.drop_column("digest_claim")
        batch_op.drop_column("digest")
