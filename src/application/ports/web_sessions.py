from datetime import datetime
from typing import Protocol

from domain.web_sessions import WebSession


class SessionStore(Protocol):
    """Dashboard sessions by id (the SHA-256 of the cookie's token)."""

    async def add(self, session: WebSession) -> None: ...

    async def get(self, session_id: str) -> WebSession | None:
        """The session as stored, expired or not (the caller checks); None when there is none."""
        ...

    async def touch(self, session_id: str, last_seen_at: datetime, expires_at: datetime) -> None: ...

    async def delete(self, session_id: str) -> None: ...

    async def delete_for_account(self, account_id: str, keep: str | None = None) -> int:
        """Ends every session of the account except `keep`; returns how many ended."""
        ...

    async def purge_expired(self, now: datetime) -> int:
        """Drops sessions past their expiry (a store with its own expiry may do nothing)."""
        ...
