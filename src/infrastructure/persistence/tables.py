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
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
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
    # An admin's per-account spend caps, a JSON list of {period, limit_micros} (limit_micros null:
    # that period uncapped whatever the plan says); NULL (not JSON null) means none.
    spend_caps: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
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


class PaymentRow(Base):
    """A checkout as recorded when it was created; its webhook is checked against this (domain/payments.py)."""

    __tablename__ = "payments"

    checkout_session_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    account_id: Mapped[str] = mapped_column(_ID, ForeignKey("accounts.id"))
    package_id: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    credits_micros: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    completed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)

    __table_args__ = (Index("ix_payments_account_id_created_at", "account_id", "created_at"),)


class RedemptionCodeRow(Base):
    """A code worth some credits, stored only as a peppered HMAC (domain/redemption.py)."""

    __tablename__ = "redemption_codes"

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(128), unique=True)
    credits_micros: Mapped[int] = mapped_column(BigInteger)
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)


class RedemptionRow(Base):
    """Who redeemed which code, once per account and code (the unique pair is what enforces it)."""

    __tablename__ = "redemptions"

    id: Mapped[int] = mapped_column(BigIntIdentity, primary_key=True, autoincrement=True)
    code_id: Mapped[str] = mapped_column(_ID, ForeignKey("redemption_codes.id"))
    account_id: Mapped[str] = mapped_column(_ID, ForeignKey("accounts.id"), index=True)
    redeemed_at: Mapped[datetime] = mapped_column(DateTimeUTC)

    __table_args__ = (UniqueConstraint("code_id", "account_id", name="uq_redemptions_code_id_account_id"),)

class AuditLogRow(Base):
    """One admin action (see domain/audit.py): append-only, read newest first (by seq).

    No foreign keys: the log outlives what it names, and an entry must never fail for that.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigIntIdentity, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTimeUTC, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    actor_id: Mapped[str | None] = mapped_column(_ID, nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    target_label: Mapped[str] = mapped_column(Text, default="")
    account_id: Mapped[str | None] = mapped_column(_ID, nullable=True)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_audit_log_action_seq", "action", "seq"),
        Index("ix_audit_log_target_seq", "target", "seq"),
        Index("ix_audit_log_account_id_seq", "account_id", "seq"),
    )
class IdentityRow(Base):
    """An OpenID Connect identity (issuer and subject, the provider's name for a person) linked to an account."""

    __tablename__ = "identities"

    issuer: Mapped[str] = mapped_column(String(512), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)  # OIDC caps sub at 255 ASCII characters
    account_id: Mapped[str] = mapped_column(_ID, ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)


class PendingSignInRow(Base):
    """A sign-in sent to a provider and not back yet, under the SHA-256 of the browser's cookie token."""

    __tablename__ = "pending_sign_ins"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(Text)
    next_path: Mapped[str] = mapped_column(Text)
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
payments = _table(PaymentRow)
redemption_codes = _table(RedemptionCodeRow)
redemptions = _table(RedemptionRow)
audit_log = _table(AuditLogRow)
web_sessions = _table(WebSessionRow)
identities = _table(IdentityRow)
pending_sign_ins = _table(PendingSignInRow)
