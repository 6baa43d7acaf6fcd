"""API keys: a secret shown once, stored only as a peppered HMAC, checked in constant time."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from domain.errors import InvalidRequest, TooManyKeys

KEY_PREFIX = "sk-sluice-"
DEFAULT_MAX_ACTIVE_KEYS = 50
_SECRET_BYTES = 32
_VISIBLE_CHARS = 6


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    account_id: str
    name: str
    prefix: str
    secret_hash: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    allowed_models: frozenset[str] | None = None

    def is_active(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at

    def allows_model(self, model: str) -> bool:
        return self.allowed_models is None or model in self.allowed_models

    def revoked(self, now: datetime) -> "ApiKey":
        return self if self.revoked_at is not None else replace(self, revoked_at=now)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """The only object that ever holds the plain secret; it is printed once and dropped."""

    key: ApiKey
    secret: str


def hash_secret(secret: str, pepper: bytes) -> str:
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, stored_hash: str, pepper: bytes) -> bool:
    return hmac.compare_digest(hash_secret(secret, pepper), stored_hash)


def looks_like_key(candidate: str) -> bool:
    return candidate.startswith(KEY_PREFIX) and 20 <= len(candidate) <= 128


def issue_key(
    account_id: str,
    name: str,
    pepper: bytes,
    now: datetime,
    *,
    active_keys: int,
    max_active: int = DEFAULT_MAX_ACTIVE_KEYS,
    expires_at: datetime | None = None,
    allowed_models: frozenset[str] | None = None,
) -> IssuedKey:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidRequest("a key needs a name of 1 to 100 characters", param="name")
    if active_keys >= max_active:
        raise TooManyKeys(max_active)
    if expires_at is not None and expires_at <= now:
        raise InvalidRequest("expiry must lie in the future", param="expires_at")
    secret = KEY_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
    key = ApiKey(
        id="key_" + secrets.token_hex(8),
        account_id=account_id,
        name=name,
        prefix=secret[: len(KEY_PREFIX) + _VISIBLE_CHARS],
        secret_hash=hash_secret(secret, pepper),
        created_at=now,
        expires_at=expires_at,
        allowed_models=allowed_models,
    )
    return IssuedKey(key=key, secret=secret)
