"""The language each user chose for the pages (docs/web.md, "Logging in").

* ``users.language``: a lowercase language code (``fr``), set by the web's language switch
  (``Users.set_language``); NULL, for every existing user, means the browser's preference.

Downgrading drops the column: every user is back to their browser's language.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
