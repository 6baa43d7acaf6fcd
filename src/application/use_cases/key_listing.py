from dataclasses import dataclass
from datetime import datetime

from application.ports.api_keys import ApiKeyRepository
from application.ports.clock import Clock
from application.ports.usage import UsageQueries
from domain.keys import ApiKey


@dataclass(frozen=True, slots=True)
class ListedKey:
    key: ApiKey
    active: bool
    last_used: datetime | None  # the newest usage record's time; None: never used


class ListKeysWithUse:
    """An account's keys for its dashboard: active ones first, newest first, each with its last use.

    The last use is read from the usage records (one grouped, indexed query), not written on each
    request: the hot path stays as it is, and the time is as fresh as the records' last flush.
    """

    def __init__(self, keys: ApiKeyRepository, usage: UsageQueries, clock: Clock) -> None:
        self._keys = keys
        self._usage = usage
        self._clock = clock

    async def execute(self, account_id: str) -> list[ListedKey]:
        keys = await self._keys.list_for_account(account_id)
        used = await self._usage.last_used([k.id for k in keys]) if keys else {}
        now = self._clock.now()
        listed = [ListedKey(k, k.is_active(now), used.get(k.id)) for k in keys]
        return sorted(listed, key=lambda item: (not item.active, -item.key.created_at.timestamp()))
