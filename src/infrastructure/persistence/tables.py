"""The database schema, declared on advanced-alchemy's base and types.

These classes never leave the persistence package: the adapters run Core statements against the
`Table` objects below and map rows to the domain's dataclasses themselves. The Alembic migrations
are written by hand and `test_migrations` checks they produce exactly this schema.

Usage tables carry no foreign keys and no length limits on free-form text on purpose: a usage
batch is retried until it is written, so no single record may be able to make it fail forever.
"""

from datetime import datetime
from typing import Any, cast

from advanced_alchemy.base import CommonTableAttributes, create_registry
from advanced_alchemy.types import BigIntIdentity, DateTimeUTC
from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# A registry of our own (with advanced-alchemy's naming convention and type map), so that no other
# library's models can end up in Sluice's metadata and migrations.
_registry = create_registry()


class Base(CommonTableAttributes, DeclarativeBase):
    __abstract__ = True
    registry = _registry


metadata = _registry.metadata

_ID = String(64)


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    plan: Mapped[str] = mapped_column(String(64))
    # A cache of the sum of the account's credit entries, moved in the same transaction as each
    # entry is written, so that reading a balance (and reserving against it) is one row.
    balance_micros: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    # The operator's per-account rate-policy overrides, a JSON list of
    # {name, endpoints, requests, window_seconds, subject}; NULL (not JSON null) means none.
    rate_limits: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # The argon2id hash (in its PHC string form, parameters and salt included); NULL: no password set
    # (an account the operator made, until `sluice accounts password`).
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)


class WebSessionRow(Base):
    """A dashboard session; `id` is the SHA-256 of the cookie's token (see domain/web_sessions.py)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(_ID, ForeignKey("accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    last_seen_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC, index=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(_ID, ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    # A sorted JSON list of model ids; NULL (not JSON null) means every model.
    allowed_models: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class CreditEntryRow(Base):
    __tablename__ = "credit_entries"

    id: Mapped[int] = mapped_column(BigIntIdentity, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(_ID, ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)

    __table_args__ = (Index("ix_credit_entries_account_id_id", "account_id", "id"),)


class CreditLeaseRow(Base):
    """Who holds each credit lease, until when, and how it was closed (see domain/leases.py)."""

    __tablename__ = "credit_leases"

    id: Mapped[str] = mapped_column(_ID, primary_key=True)  # also the RESERVE entry's idempotency key
    account_id: Mapped[str] = mapped_column(_ID, ForeignKey("accounts.id"))
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    owner: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    returned_micros: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(16), nullable=True)  # "owner" or "reclaim"

    __table_args__ = (Index("ix_credit_leases_closed_at_expires_at", "closed_at", "expires_at"),)


class UsageRecordRow(Base):
    __tablename__ = "usage_records"

    id: Mapped[str] = mapped_column(_ID, primary_key=True)  # the request id
    account_id: Mapped[str] = mapped_column(_ID)
    key_id: Mapped[str] = mapped_column(_ID)
    endpoint: Mapped[str] = mapped_column(String)
    model: Mapped[str] = mapped_column(String)
    outcome: Mapped[str] = mapped_column(String)
    http_status: Mapped[int] = mapped_column(Integer)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    charged_micros: Mapped[int] = mapped_column(BigInteger)
    latency_ms: Mapped[int] = mapped_column(BigInteger)
    streamed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    # The credit lease that paid for the request (prepaid plans): what a lease's owner did not
    # live to give back is the lease minus the charges of its records.
    lease_id: Mapped[str | None] = mapped_column(_ID, nullable=True)

    __table_args__ = (
        Index("ix_usage_records_account_id_created_at", "account_id", "created_at"),
        Index("ix_usage_records_key_id_created_at", "key_id", "created_at"),
        Index("ix_usage_records_lease_id", "lease_id"),
    )


class UsageTotalsRow(Base):
    """Per-key running sums, moved with each usage batch so that stats are one indexed read."""

    __tablename__ = "usage_totals"

    key_id: Mapped[str] = mapped_column(_ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(_ID, index=True)
    requests: Mapped[int] = mapped_column(BigInteger)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    charged_micros: Mapped[int] = mapped_column(BigInteger)


class ImageRow(Base):
    """A generated image, served at /images/<token> until it expires (see domain/images.py).

    No foreign key to accounts: like usage records, an image row is written on the request path and
    must not fail for a reason that has nothing to do with the image; account_id is for attribution.
    """

    __tablename__ = "images"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    account_id: Mapped[str] = mapped_column(_ID)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC, index=True)


def _table(row: Any) -> Table:
    return cast(Table, row.__table__)


# The adapters use these Core tables: a Core statement skips the ORM's per-row identity work.
accounts = _table(AccountRow)
api_keys = _table(ApiKeyRow)
credit_entries = _table(CreditEntryRow)
credit_leases = _table(CreditLeaseRow)
usage_records = _table(UsageRecordRow)
usage_totals = _table(UsageTotalsRow)
images = _table(ImageRow)
web_sessions = _table(WebSessionRow)
