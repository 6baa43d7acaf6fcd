"""In-memory fakes of the sign-in ports: passwords, their hasher, and dashboard sessions.

The session store runs the same contract tests as the SQL and Redis adapters
(tests/integration/persistence/test_web_sessions.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.accounts import Account
from domain.web_sessions import WebSession
from tests.fakes.memory import InMemoryAccountRepository


class FakePasswordHasher:
    """Reversible on purpose (tests read what was hashed); counts its work, so a test can check that
    an unknown email costs the same verification as a wrong password."""

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.hashed: list[str] = []
        self.verified: list[str] = []

    async def hash(self, password: str) -> str:
        self.hashed.append(password)
        return f"fake${self.version}${password}"

    async def verify(self, stored: str, password: str) -> bool:
        self.verified.append(stored)
        scheme, _, rest = stored.partition("$")
        _, _, plain = rest.partition("$")
        return scheme == "fake" and plain == password

    def needs_rehash(self, stored: str) -> bool:
        return not stored.startswith(f"fake${self.version}$")


class InMemoryPasswordStore:
    def __init__(self, accounts: InMemoryAccountRepository) -> None:
        self._accounts = accounts
        self.hashes: dict[str, str] = {}

    async def find(self, email: str) -> tuple[Account, str | None] | None:
        account = await self._accounts.get_by_email(email)
        return None if account is None else (account, self.hashes.get(account.id))

    async def get(self, account_id: str) -> str | None:
        return self.hashes.get(account_id)

    async def set(self, account_id: str, password_hash: str) -> None:
        if await self._accounts.get(account_id) is None:
            raise LookupError(f"no account {account_id}")
        self.hashes[account_id] = password_hash


class InMemorySessionStore:
    def __init__(self) -> None:
        self.sessions: dict[str, WebSession] = {}
        self.touches = 0

    async def add(self, session: WebSession) -> None:
        self.sessions[session.id] = session

    async def get(self, session_id: str) -> WebSession | None:
        return self.sessions.get(session_id)

    async def touch(self, session_id: str, last_seen_at: datetime, expires_at: datetime) -> None:
        session = self.sessions.get(session_id)
        if session is not None:
            self.touches += 1
            self.sessions[session_id] = replace(session, last_seen_at=last_seen_at, expires_at=expires_at)

    async def delete(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    async def delete_for_account(self, account_id: str, keep: str | None = None) -> int:
        ending = [s.id for s in self.sessions.values() if s.account_id == account_id and s.id != keep]
        for session_id in ending:
            del self.sessions[session_id]
        return len(ending)

    async def purge_expired(self, now: datetime) -> int:
        gone = [s.id for s in self.sessions.values() if not s.is_live(now)]
        for session_id in gone:
            del self.sessions[session_id]
        return len(gone)
