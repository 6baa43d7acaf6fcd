"""The audit log (`audit_log`) and per-account spend caps (`accounts.spend_caps`, nullable JSON).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-20

Written by hand to run unchanged on Postgres and SQLite. Existing accounts get NULL spend caps:
their plan's caps, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(64)
_TIME = sa.DateTime(timezone=True)  # what advanced-alchemy's DateTimeUTC stores
# BIGSERIAL on Postgres; SQLite autoincrements only an INTEGER PRIMARY KEY (the rowid).
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("accounts", sa.Column("spend_caps", sa.JSON(), nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("seq", _SERIAL, autoincrement=True, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("actor_id", _ID, nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("target_label", sa.Text(), nullable=False),
        sa.Column("account_id", _ID, nullable=True),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_action_seq", "audit_log", ["action", "seq"])
    op.create_index("ix_audit_log_target_seq", "audit_log", ["target", "seq"])
    op.create_index("ix_audit_log_account_id_seq", "audit_log", ["account_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_account_id_seq", table_name="audit_log")
    op.drop_index("ix_audit_log_target_seq", table_name="audit_log")
    op.drop_index("ix_audit_log_action_seq", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_column("accounts", "spend_caps")
