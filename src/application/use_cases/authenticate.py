"""Turns a bearer secret into a Principal, with a short cache so the hot path rarely reads the DB.

When a cached key expires, every request that holds it arrives at once (64 connections of one
client: 64 lookups every 5 s, a visible step in the p99). One lookup runs per key; the others wait
for its answer.
"""

import asyncio

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
        self._loading: dict[str, asyncio.Future[Principal | None]] = {}

    async def execute(self, secret: str | None) -> Principal:
        if not secret or not looks_like_key(secret):
            raise AuthenticationFailed(missing=not secret)
        digest = hash_secret(secret, self._pepper)
        now = self._clock.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            principal = cached[1]
        else:
            principal = await self._load_once(secret, digest, now)
        if principal is None or not principal.key.is_active(self._clock.now()):
            raise AuthenticationFailed()
        if principal.account.is_banned:
            raise AccountBanned()
        return principal

    async def _load_once(self, secret: str, digest: str, now: float) -> Principal | None:
        loading = self._loading.get(digest)
        if loading is None:
            # A task of its own, so that the caller that started it going away (a client that
            # hung up) does not fail the others waiting on the same lookup.
            loading = self._loading[digest] = asyncio.ensure_future(self._load(secret, digest))
            loading.add_done_callback(lambda done: self._loaded(digest, now, done))
        return await asyncio.shield(loading)

    def _loaded(self, digest: str, started: float, done: "asyncio.Future[Principal | None]") -> None:
        if self._loading.get(digest) is not done:
            return  # forgotten while it ran (a revocation): what it read may be stale already
        del self._loading[digest]
        if done.cancelled() or done.exception() is not None:
            return
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        self._cache[digest] = (started + self._ttl, done.result())

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
        self._loading.clear()

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
        self._loading.clear()  # which account a lookup in flight is for is not known yet
