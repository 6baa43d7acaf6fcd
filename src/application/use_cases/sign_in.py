"""Signing in with an email and a password, and the limit on attempts that guards it."""

import secrets
from dataclasses import dataclass

from application.ports.password_hasher import PasswordHasher
from application.ports.passwords import PasswordStore
from application.ports.rate_limiter import RateLimiter
from application.use_cases.web_sessions import OpenWebSession
from domain.accounts import Account, normalize_email
from domain.attempt_limits import EMAIL, IP, AttemptLimits
from domain.errors import AccountBanned, InvalidRequest, SignInFailed, TooManyAttempts
from domain.web_sessions import OpenedSession


@dataclass(frozen=True, slots=True)
class SignedIn:
    account: Account
    opened: OpenedSession


class AttemptThrottle:
    """Counts an attempt per email and per client IP; over either limit, TooManyAttempts."""

    def __init__(self, limiter: RateLimiter, limits: AttemptLimits) -> None:
        self._limiter = limiter
        self._limits = limits

    async def check(self, email: str, client_ip: str) -> None:
        decisions = await self._limiter.acquire(self._limits.checks(email, client_ip))
        for subject, decision in zip((EMAIL, IP), decisions, strict=True):
            if not decision.allowed:
                raise TooManyAttempts(subject, decision.retry_after)


class SignIn:
    """An unknown email, an account without a password and a wrong password give the same error
    after the same work: a hash is verified in every case (a dummy one when there is no account)."""

    def __init__(
        self, passwords: PasswordStore, hasher: PasswordHasher, throttle: AttemptThrottle, open_session: OpenWebSession
    ) -> None:
        self._passwords = passwords
        self._hasher = hasher
        self._throttle = throttle
        self._open = open_session
        self._dummy: str | None = None

    async def execute(self, email: str, password: str, *, client_ip: str, user_agent: str = "") -> SignedIn:
        await self._throttle.check(email, client_ip)
        found = await self._find(email)
        stored = found[1] if found else None
        if stored is None:
            await self._hasher.verify(await self._dummy_hash(), password)
            raise SignInFailed()
        if not await self._hasher.verify(stored, password):
            raise SignInFailed()
        assert found is not None
        account = found[0]
        if account.is_banned:
            raise AccountBanned()
        if self._hasher.needs_rehash(stored):
            await self._passwords.set(account.id, await self._hasher.hash(password))
        return SignedIn(account, await self._open.execute(account, user_agent))

    async def _find(self, email: str) -> tuple[Account, str | None] | None:
        try:
            return await self._passwords.find(normalize_email(email))
        except InvalidRequest:
            return None  # not an address: no account can have it

    async def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = await self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy
