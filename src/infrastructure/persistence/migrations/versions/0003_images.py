"""Generated images, kept for a while under an unguessable token so that every replica can serve them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-15

Written by hand to run unchanged on Postgres (BYTEA) and SQLite (BLOB).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("token", name="pk_images"),
    )
    op.create_index("ix_images_expires_at", "images", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_images_expires_at", table_name="images")
    op.drop_table("images")
