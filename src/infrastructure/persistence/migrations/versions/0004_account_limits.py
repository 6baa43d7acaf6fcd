"""Per-account rate-policy overrides: `accounts.rate_limits`, a nullable JSON list.

Revision ID: 0004
Revises: 0002 (for now: revision 0003 is under way on another branch; whichever merges second
re-points its `down_revision` at the other)
Create Date: 2026-12-05

Written by hand to run unchanged on Postgres and SQLite (a nullable ADD COLUMN is one statement on
both). Existing accounts get NULL: no overrides, their plan's limits as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("rate_limits", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("accounts", "rate_limits")
