"""Redemption codes: an operator issues codes worth some credits; each account redeems a code once.

A code is a random secret shown once and stored only as a peppered HMAC (like an API key). It
admits at most `max_uses` redemptions in all, until it expires or is revoked; the store counts
uses atomically, so concurrent redemptions can never exceed it.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.credits import MAX_OPERATOR_MICROS, credits_text
from domain.errors import InvalidRequest

# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_GROUPS, _GROUP_CHARS = 4, 5  # 20 characters, 100 random bits: far beyond guessing
_NOT_CODE = re.compile(r"[^0-9A-Z]")
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})

MAX_USES = 1_000_000
MAX_CODES_AT_ONCE = 1_000


class CodeStatus(StrEnum):
    ACTIVE = "active"
    USED_UP = "used_up"
    EXPIRED = "expired"
    REVOKED = "revoked"


class RedeemRefusal(StrEnum):
    """Why a code was not redeemed; each is the answer for a code that was typed, never a guess at others."""

    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    USED_UP = "used_up"
    ALREADY_REDEEMED = "already_redeemed"  # by this very account


@dataclass(frozen=True, slots=True)
class RedemptionCode:
    id: str
    code_hash: str
    credits_micros: int
    max_uses: int
    uses: int
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def status(self, now: datetime) -> CodeStatus:
        if self.revoked_at is not None:
            return CodeStatus.REVOKED
        if self.expires_at is not None and now >= self.expires_at:
            return CodeStatus.EXPIRED
        if self.uses >= self.max_uses:
            return CodeStatus.USED_UP
        return CodeStatus.ACTIVE

    def refusal(self, now: datetime) -> RedeemRefusal | None:
        """Why the code admits no redemption now (None: it does)."""
        return {
            CodeStatus.ACTIVE: None,
            CodeStatus.REVOKED: RedeemRefusal.REVOKED,
            CodeStatus.EXPIRED: RedeemRefusal.EXPIRED,
            CodeStatus.USED_UP: RedeemRefusal.USED_UP,
        }[self.status(now)]

    def grant_key(self, account_id: str) -> str:
        # One ledger entry per account and code: a retried redemption can never grant twice.
        return f"redeem:{self.id}:{account_id}"


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """The only object that ever holds the plain code; it is shown once and dropped."""

    code: RedemptionCode
    secret: str


def normalize_code(text: str) -> str:
    """What a person typed, as it was issued: case, spaces, dashes and look-alike letters ignored."""
    return _NOT_CODE.sub("", text.upper()).translate(_LOOKALIKES)


def hash_code(text: str, pepper: bytes) -> str:
    return hmac.new(pepper, normalize_code(text).encode(), hashlib.sha256).hexdigest()


def looks_like_code(text: str) -> bool:
    return len(normalize_code(text)) == _GROUPS * _GROUP_CHARS


def _secret() -> str:
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(_GROUPS * _GROUP_CHARS))
    return "-".join(chars[i : i + _GROUP_CHARS] for i in range(0, len(chars), _GROUP_CHARS))


def check_issue(credits_micros: int, max_uses: int, count: int, expires_at: datetime | None, now: datetime) -> None:
    if not 0 < credits_micros <= MAX_OPERATOR_MICROS:
        raise InvalidRequest(
            f"a code is worth more than 0 and at most {credits_text(MAX_OPERATOR_MICROS)} credits, "
            f"not {credits_text(credits_micros)}",
            param="credits",
        )
    if not 1 <= max_uses <= MAX_USES:
        raise InvalidRequest(f"a code admits 1 to {MAX_USES:,} uses, not {max_uses}", param="uses")
    if not 1 <= count <= MAX_CODES_AT_ONCE:
        raise InvalidRequest(f"issue 1 to {MAX_CODES_AT_ONCE:,} codes at once, not {count}", param="count")
    if expires_at is not None and expires_at <= now:
        raise InvalidRequest("a code's expiry must lie in the future", param="expires")


def issue_code(
    credits_micros: int, max_uses: int, created_by: str, now: datetime, expires_at: datetime | None, pepper: bytes
) -> IssuedCode:
    secret = _secret()
    code = RedemptionCode(
        id="code_" + secrets.token_hex(8),
        code_hash=hash_code(secret, pepper),
        credits_micros=credits_micros,
        max_uses=max_uses,
        uses=0,
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
    )
    return IssuedCode(code, secret)


@dataclass(frozen=True, slots=True)
class Redemption:
    code_id: str
    account_id: str
    redeemed_at: datetime
