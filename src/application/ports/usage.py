from datetime import datetime
from typing import Protocol

from domain.usage import UsageRecord, UsageTotals


class UsageRecorder(Protocol):
    def record(self, record: UsageRecord) -> None:
        """Accepts a record without waiting on storage; it is written durably soon after."""
        ...

    async def flush(self) -> None:
        """Writes everything accepted so far (used at shutdown and before reads that must see it)."""
        ...


class UsageQueries(Protocol):
    async def totals_for_account(self, account_id: str) -> UsageTotals: ...

    async def totals_for_key(self, key_id: str) -> UsageTotals: ...

    async def charged_since(self, account_id: str, since: datetime, key_id: str | None = None) -> int: ...

    async def recent(self, account_id: str, limit: int) -> list[UsageRecord]: ...
