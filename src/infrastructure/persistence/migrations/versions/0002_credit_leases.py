"""Durable credit leases: who holds each lease and until when; which lease paid for a usage record.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Written by hand to run unchanged on Postgres and SQLite (a nullable ADD COLUMN is one statement on both).
Leases opened before this migration have no row here: they stay as they were (an unmatched `lease`
RESERVE entry), because no usage record says what they paid for.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(64)
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "credit_leases",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.Column("returned_micros", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_credit_leases"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_credit_leases_account_id_accounts"),
    )
    op.create_index("ix_credit_leases_closed_at_expires_at", "credit_leases", ["closed_at", "expires_at"])
    op.add_column("usage_records", sa.Column("lease_id", _ID, nullable=True))
    op.create_index("ix_usage_records_lease_id", "usage_records", ["lease_id"])


def downgrade() -> None:
    op.drop_index("ix_usage_records_lease_id", table_name="usage_records")
    op.drop_column("usage_records", "lease_id")
    op.drop_table("credit_leases")
