"""Per-account rate-policy overrides: `accounts.rate_limits`, a nullable JSON list.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Written by hand to run unchanged on Postgres and SQLite (a nullable ADD COLUMN is one statement on
both). Existing accounts get NULL: no overrides, their plan's limits as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("rate_limits", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("accounts", "rate_limits")
