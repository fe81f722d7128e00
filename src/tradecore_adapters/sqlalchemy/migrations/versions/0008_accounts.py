"""Accounts (docs/accounts.md): users' administrator flag and password hash, and API tokens.

* ``users.is_admin``: false for every existing user.
* ``users.password_hash``: the Argon2id hash of the user's password; NULL (no password) for
  every existing user until ``tradecore user passwd`` sets one.
* ``api_tokens``: one row per API token: the SHA-256 digest of the token (never the token),
  its scopes, label, creation, last use and expiry; owned by the user (``ON DELETE CASCADE``).

Failed logins are counted in ``shared_limits`` (migration 0006), not here. Downgrading drops
the two columns and the table: passwords, admin flags and every API token are lost.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tradecore_adapters.sqlalchemy._types

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("created_at", tradecore_adapters.sqlalchemy._types.UtcDateTime(), nullable=False),
        sa.Column(
            "last_used_at", tradecore_adapters.sqlalchemy._types.UtcDateTime(), nullable=True
        ),
        sa.Column("expires_at", tradecore_adapters.sqlalchemy._types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_api_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_tokens_digest")),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_hash")
        batch_op.drop_column("is_admin")
    op.drop_index("ix_api_tokens_user_id", table_name="api_tokens")
    op.drop_table("api_tokens")
