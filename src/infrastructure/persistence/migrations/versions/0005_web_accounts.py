"""Web accounts: `accounts.password_hash` (nullable) and the `web_sessions` table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10

Written by hand to run unchanged on Postgres and SQLite: a nullable ADD COLUMN is one statement on
both, and a new table with its indexes needs no batch mode. Existing accounts get NULL: no password
until the operator sets one (`sluice accounts password`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)  # what advanced-alchemy's DateTimeUTC stores


def upgrade() -> None:
    op.add_column("accounts", sa.Column("password_hash", sa.String(length=255), nullable=True))
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_web_sessions_account_id_accounts"),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_account_id", "web_sessions", ["account_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_account_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_column("accounts", "password_hash")
