"""Dashboard sessions: open one for a signed-in account, resolve a cookie to it, end it (or all)."""

from dataclasses import dataclass
from datetime import timedelta

from application.ports.accounts import AccountRepository
from application.ports.clock import Clock
from application.ports.web_sessions import SessionStore
from domain.accounts import Account
from domain.web_sessions import OpenedSession, WebSession, looks_like_token, open_session, session_id_of

_MAX_CACHED = 10_000


@dataclass(frozen=True, slots=True)
class ActiveSession:
    session: WebSession
    account: Account
    touched: bool  # the expiry slid forward on this request (the cookie should be sent again)


class OpenWebSession:
    def __init__(self, sessions: SessionStore, clock: Clock, lifetime: timedelta) -> None:
        self._sessions = sessions
        self._clock = clock
        self._lifetime = lifetime

    async def execute(self, account: Account, user_agent: str = "") -> OpenedSession:
        now = self._clock.now()
        await self._sessions.purge_expired(now)  # here, not on a timer: sign-ins are rare and the delete is indexed
        opened = open_session(account.id, now, self._lifetime, user_agent)
        await self._sessions.add(opened.session)
        return opened


class ResolveSession:
    """A cookie's token to its live session and account; None for anything else.

    The account is read through a short per-process cache (like keys in `Authenticate`), so a ban
    from another process ends its sessions within `account_cache_seconds`; a banned account's
    session is deleted when it is next presented.
    """

    def __init__(
        self,
        sessions: SessionStore,
        accounts: AccountRepository,
        clock: Clock,
        lifetime: timedelta,
        account_cache_seconds: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._accounts = accounts
        self._clock = clock
        self._lifetime = lifetime
        self._ttl = account_cache_seconds
        self._cache: dict[str, tuple[float, Account | None]] = {}

    async def execute(self, token: str | None) -> ActiveSession | None:
        if not token or not looks_like_token(token):
            return None
        session = await self._sessions.get(session_id_of(token))
        if session is None:
            return None
        now = self._clock.now()
        if not session.is_live(now):
            await self._sessions.delete(session.id)
            return None
        account = await self._account(session.account_id)
        if account is None or account.is_banned:
            await self._sessions.delete(session.id)
            return None
        if not session.needs_touch(now):
            return ActiveSession(session, account, touched=False)
        session = session.touched(now, self._lifetime)
        await self._sessions.touch(session.id, session.last_seen_at, session.expires_at)
        return ActiveSession(session, account, touched=True)

    async def _account(self, account_id: str) -> Account | None:
        now = self._clock.monotonic()
        cached = self._cache.get(account_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        account = await self._accounts.get(account_id)
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        self._cache[account_id] = (now + self._ttl, account)
        return account

    def forget(self) -> None:
        """Drops every cached account."""
        self._cache.clear()

    def forget_account(self, account_id: str) -> None:
        self._cache.pop(account_id, None)


class SignOut:
    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions

    async def execute(self, session_id: str) -> None:
        await self._sessions.delete(session_id)


class SignOutEverywhere:
    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions

    async def execute(self, account_id: str) -> int:
        """How many sessions ended (this one included)."""
        return await self._sessions.delete_for_account(account_id)
