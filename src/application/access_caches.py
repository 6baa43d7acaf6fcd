"""The per-process caches of who may call, told at once of a revocation or a ban made in this process.

`Authenticate` (keys) and `ResolveSession` (dashboard sessions) each keep what they read for
`SLUICE_KEY_CACHE_SECONDS`, so that the hot path rarely reads the database. A revocation or a ban
made through this process drops the account's entries from both, so this process refuses at once;
every other process (another replica, a sibling worker, the CLI's own) still serves its cached
answer until it expires, i.e. for at most that many seconds. docs/operations.md states the delay.
"""

from typing import Protocol


class AccountCache(Protocol):
    def forget_account(self, account_id: str) -> None: ...


class AccessCaches:
    def __init__(self, *caches: AccountCache) -> None:
        self._caches = caches

    def forget_account(self, account_id: str) -> None:
        for cache in self._caches:
            cache.forget_account(account_id)
