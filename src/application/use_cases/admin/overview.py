from dataclasses import dataclass
from datetime import datetime

from application.ports.account_directory import AccountDirectory, AccountTally
from application.ports.clock import Clock
from application.ports.leases import LeaseStore
from application.ports.usage import Grouping, UsageGroup, UsageQueries, UsageRecorder
from domain.accounts import Account
from domain.usage import UsageTotals


@dataclass(frozen=True, slots=True)
class AccountUsage:
    account_id: str
    account: Account | None  # None: the records name an account that no longer exists
    totals: UsageTotals


@dataclass(frozen=True, slots=True)
class Overview:
    since: datetime | None
    tally: AccountTally
    open_leases: int
    total: UsageTotals
    by_model: list[UsageGroup]  # the models that charged most
    by_plan: list[UsageGroup]  # by the plan each account is on now
    by_account: list[AccountUsage]  # the accounts that charged most


class AdminOverview:
    """Counts and global usage (by model, plan and account) from the usage records since a time."""

    def __init__(
        self,
        directory: AccountDirectory,
        usage: UsageQueries,
        recorder: UsageRecorder,
        leases: LeaseStore,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._directory = directory
        self._usage = usage
        self._recorder = recorder
        self._leases = leases

    async def execute(self, since: datetime | None = None, *, top: int = 20) -> Overview:
        await self._recorder.flush()  # this process's last requests belong in the picture
        total = (await self._usage.summary(None, since, None))[0].totals
        by_model = await self._usage.summary(None, since, Grouping.MODEL, top=top)
        by_plan = await self._usage.summary(None, since, Grouping.PLAN)
        by_account = await self._usage.summary(None, since, Grouping.ACCOUNT, top=top)
        accounts = await self._directory.get_many([g.key for g in by_account if g.key])
        return Overview(
            since=since,
            tally=await self._directory.tally(self._clock.now()),
            open_leases=len(await self._leases.standing()),
            total=total,
            by_model=by_model,
            by_plan=sorted(by_plan, key=lambda g: (-g.totals.charged_micros, -g.totals.requests, g.key or "")),
            by_account=[AccountUsage(g.key or "", accounts.get(g.key or ""), g.totals) for g in by_account],
        )
