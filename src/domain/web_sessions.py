"""Dashboard sessions: a random token in the browser's cookie, only its SHA-256 on the server.

The stored id is the token's digest, so a leaked sessions table (or Redis dump) holds nothing a
browser could present. Each session carries its own CSRF token (the synchronizer token of its
forms). A session lives `lifetime` past its last use (sliding), but its last use is written at most
once per `TOUCH_EVERY`, so that reading pages does not write on every request.
"""

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

TOUCH_EVERY = timedelta(minutes=1)
_TOKEN_BYTES = 32
_MAX_USER_AGENT = 300


@dataclass(frozen=True, slots=True)
class WebSession:
    id: str  # SHA-256 hex of the cookie's token
    account_id: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str = ""

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at

    def needs_touch(self, now: datetime) -> bool:
        return now - self.last_seen_at >= TOUCH_EVERY

    def touched(self, now: datetime, lifetime: timedelta) -> "WebSession":
        return replace(self, last_seen_at=now, expires_at=now + lifetime)


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """The only object that holds the cookie's token: it goes into one Set-Cookie and is dropped."""

    token: str
    session: WebSession


def session_id_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(account_id: str, now: datetime, lifetime: timedelta, user_agent: str = "") -> OpenedSession:
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    session = WebSession(
        id=session_id_of(token),
        account_id=account_id,
        csrf_token=secrets.token_urlsafe(_TOKEN_BYTES),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        user_agent=user_agent[:_MAX_USER_AGENT],
    )
    return OpenedSession(token=token, session=session)


def looks_like_token(candidate: str) -> bool:
    """Cheap shape check before a lookup: token_urlsafe(32) is 43 characters."""
    return 20 <= len(candidate) <= 128
