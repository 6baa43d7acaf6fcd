"""OpenID Connect sign-in: identities linked to accounts, and sign-ins waiting for their provider.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-20

Written by hand to run unchanged on Postgres and SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_identities_account_id_accounts"),
        sa.PrimaryKeyConstraint("issuer", "subject", name="pk_identities"),
    )
    op.create_index("ix_identities_account_id", "identities", ["account_id"])
    op.create_table(
        "pending_sign_ins",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(128), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("next_path", sa.Text(), nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_pending_sign_ins"),
    )
    op.create_index("ix_pending_sign_ins_expires_at", "pending_sign_ins", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_pending_sign_ins_expires_at", table_name="pending_sign_ins")
    op.drop_table("pending_sign_ins")
    op.drop_index("ix_identities_account_id", table_name="identities")
    op.drop_table("identities")
