from datetime import datetime

from application.ports.accounts import AccountRepository
from application.ports.usage import Grouping, UsageGroup, UsageQueries
from application.use_cases.accounts import FindAccount


class SummarizeUsage:
    """Requests, tokens, upstream cost and charges: of one account or all, in total or by model or day."""

    def __init__(self, accounts: AccountRepository, usage: UsageQueries) -> None:
        self._find = FindAccount(accounts)
        self._usage = usage

    async def execute(
        self, email: str | None = None, since: datetime | None = None, by: Grouping | None = None
    ) -> list[UsageGroup]:
        account_id = (await self._find.execute(email)).id if email else None
        return await self._usage.summary(account_id, since, by)
