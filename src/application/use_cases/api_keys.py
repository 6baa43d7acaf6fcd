from datetime import datetime

from application.access_caches import AccessCaches
from application.ports.accounts import AccountRepository
from application.ports.api_keys import ApiKeyRepository
from application.ports.clock import Clock
from application.use_cases.accounts import FindAccount
from domain.errors import NotFound
from domain.keys import DEFAULT_MAX_ACTIVE_KEYS, ApiKey, IssuedKey, issue_key


class IssueApiKey:
    def __init__(
        self,
        accounts: AccountRepository,
        keys: ApiKeyRepository,
        clock: Clock,
        pepper: bytes,
        max_active: int = DEFAULT_MAX_ACTIVE_KEYS,
    ) -> None:
        self._find = FindAccount(accounts)
        self._keys = keys
        self._clock = clock
        self._pepper = pepper
        self._max_active = max_active

    async def execute(
        self,
        email: str,
        name: str,
        *,
        expires_at: datetime | None = None,
        allowed_models: frozenset[str] | None = None,
    ) -> IssuedKey:
        account = await self._find.execute(email)
        now = self._clock.now()
        issued = issue_key(
            account.id,
            name,
            self._pepper,
            now,
            active_keys=await self._keys.count_active(account.id, now),
            max_active=self._max_active,
            expires_at=expires_at,
            allowed_models=allowed_models,
        )
        await self._keys.add(issued.key)
        return issued


class ListApiKeys:
    def __init__(self, accounts: AccountRepository, keys: ApiKeyRepository) -> None:
        self._find = FindAccount(accounts)
        self._keys = keys

    async def execute(self, email: str) -> list[ApiKey]:
        account = await self._find.execute(email)
        return await self._keys.list_for_account(account.id)


class RevokeApiKey:
    """Revokes a key: this process refuses it at once, every other within the key cache's lifetime."""

    def __init__(self, keys: ApiKeyRepository, clock: Clock, caches: AccessCaches) -> None:
        self._keys = keys
        self._clock = clock
        self._caches = caches

    async def execute(self, key_id: str, *, owner_id: str | None = None) -> tuple[ApiKey, bool]:
        """The key after the call, and whether this call revoked it (False: it was revoked before).

        With `owner_id` (the dashboard), another account's key is NotFound, as a key that does not exist.
        """
        key = await self._keys.get(key_id.strip())
        if key is None or (owner_id is not None and key.account_id != owner_id):
            raise NotFound(f"no key with id {key_id}")
        if key.revoked_at is not None:
            # Revoked elsewhere a moment ago, perhaps, and still cached here: forgotten all the same.
            self._caches.forget_account(key.account_id)
            return key, False
        await self._keys.revoke(key.id, self._clock.now())
        self._caches.forget_account(key.account_id)
        return key.revoked(self._clock.now()), True
