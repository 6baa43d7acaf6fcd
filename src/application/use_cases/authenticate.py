"""Turns a bearer secret into a Principal, with a short cache so the hot path rarely reads the DB."""

from application.plan_book import PlanBook
from application.ports.api_keys import ApiKeyRepository
from application.ports.clock import Clock
from application.principal import Principal
from domain.errors import AccountBanned, AuthenticationFailed
from domain.keys import hash_secret, looks_like_key, secret_matches

_MAX_CACHED = 100_000


class Authenticate:
    def __init__(
        self, keys: ApiKeyRepository, plans: PlanBook, clock: Clock, pepper: bytes, ttl_seconds: float = 5.0
    ) -> None:
        self._keys = keys
        self._plans = plans
        self._clock = clock
        self._pepper = pepper
        self._ttl = ttl_seconds
        # hash -> (expires at, principal or None for a known-bad key)
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def execute(self, secret: str | None) -> Principal:
        if not secret or not looks_like_key(secret):
            raise AuthenticationFailed(missing=not secret)
        digest = hash_secret(secret, self._pepper)
        now = self._clock.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            principal = cached[1]
        else:
            principal = await self._load(secret, digest)
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
            self._cache[digest] = (now + self._ttl, principal)
        if principal is None or not principal.key.is_active(self._clock.now()):
            raise AuthenticationFailed()
        if principal.account.is_banned:
            raise AccountBanned()
        return principal

    async def _load(self, secret: str, digest: str) -> Principal | None:
        found = await self._keys.find_with_account(digest)
        if found is None:
            return None
        key, account = found
        # The lookup was by hash; this compare is the constant-time check of the secret itself.
        if not secret_matches(secret, key.secret_hash, self._pepper):
            return None
        plan = self._plans.in_force(account)
        return Principal(key=key, account=account, plan=plan)

    def forget(self) -> None:
        """Drops every cached principal."""
        self._cache.clear()

    def forget_account(self, account_id: str) -> None:
        """Drops the account's cached principals, so its next request reads its keys and status afresh.

        A walk of the cache (at most 100,000 entries, a few milliseconds): it runs on an operator's
        revocation or ban, never on the request path.
        """
        stale = [
            digest
            for digest, (_, principal) in self._cache.items()
            if principal is not None and principal.account.id == account_id
        ]
        for digest in stale:
            del self._cache[digest]
