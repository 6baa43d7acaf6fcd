from datetime import datetime
from typing import Protocol

from domain.accounts import Account
from domain.keys import ApiKey


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...

    async def get(self, key_id: str) -> ApiKey | None: ...

    async def find_with_account(self, secret_hash: str) -> tuple[ApiKey, Account] | None:
        """The authentication lookup: one indexed read by hash, key and owner together."""
        ...

    async def list_for_account(self, account_id: str) -> list[ApiKey]: ...

    async def count_active(self, account_id: str, now: datetime) -> int: ...

    async def revoke(self, key_id: str, now: datetime) -> bool:
        """False when there is no such key."""
        ...
