from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.usage import UsageRecord, UsageTotals


class Grouping(StrEnum):
    MODEL = "model"
    DAY = "day"  # the UTC date, YYYY-MM-DD
    ACCOUNT = "account"  # the account id
    PLAN = "plan"  # the plan the account is on now (not when the request was made)


@dataclass(frozen=True, slots=True)
class UsageGroup:
    key: str | None  # the model or the day; None for the ungrouped total
    totals: UsageTotals


@dataclass(frozen=True, slots=True)
class DayModelUsage:
    day: str  # the UTC date, YYYY-MM-DD
    model: str
    totals: UsageTotals


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

    async def recent(self, account_id: str, limit: int) -> list[UsageRecord]:
        """The account's last `limit` records, newest first."""
        ...

    async def by_day_and_model(self, account_id: str, since: datetime) -> list[DayModelUsage]:
        """Sums of one account's records from `since` on, per UTC day and model, ordered by day then model."""
        ...

    async def last_used(self, key_ids: Sequence[str]) -> dict[str, datetime]:
        """When each key's newest usage record was made; a key never used is absent."""
        ...

    async def summary(
        self, account_id: str | None, since: datetime | None, by: Grouping | None, *, top: int | None = None
    ) -> list[UsageGroup]:
        """Sums of usage records (one account or all, from `since` on), in group order.

        Ungrouped, it is always one group (zeros when nothing matched). With `top`, only the `top`
        groups that charged most (then most requests, then by key), in that order.
        """
        ...
