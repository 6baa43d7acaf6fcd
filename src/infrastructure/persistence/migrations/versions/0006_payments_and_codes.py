"""Buying credits and redemption codes: `payments`, `redemption_codes` and `redemptions`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10

Written by hand to run unchanged on Postgres and SQLite. New tables only: nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(64)
_TIME = sa.DateTime(timezone=True)  # what advanced-alchemy's DateTimeUTC stores
# BIGSERIAL on Postgres; SQLite autoincrements only an INTEGER PRIMARY KEY (the rowid).
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("checkout_session_id", sa.String(255), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("package_id", sa.String(64), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("credits_micros", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("completed_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("checkout_session_id", name="pk_payments"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_payments_account_id_accounts"),
    )
    op.create_index("ix_payments_account_id_created_at", "payments", ["account_id", "created_at"])
    op.create_table(
        "redemption_codes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("code_hash", sa.String(128), nullable=False),
        sa.Column("credits_micros", sa.BigInteger(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_redemption_codes"),
        sa.UniqueConstraint("code_hash", name="uq_redemption_codes_code_hash"),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", _SERIAL, autoincrement=True, nullable=False),
        sa.Column("code_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("redeemed_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_redemptions"),
        sa.ForeignKeyConstraint(["code_id"], ["redemption_codes.id"], name="fk_redemptions_code_id_redemption_codes"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_redemptions_account_id_accounts"),
        sa.UniqueConstraint("code_id", "account_id", name="uq_redemptions_code_id_account_id"),
    )
    op.create_index("ix_redemptions_account_id", "redemptions", ["account_id"])


def downgrade() -> None:
    op.drop_table("redemptions")
    op.drop_table("redemption_codes")
    op.drop_table("payments")
