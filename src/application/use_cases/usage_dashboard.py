"""What a signed-in person sees of their own account: the overview and the usage page.

Days are UTC dates, as spend caps count them. Figures come from the usage records; those this
process has not written yet are written first, so a page shows its viewer's own last calls (calls
served by another gateway process can still be a flush interval, a fraction of a second, behind).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from application.ports.api_keys import ApiKeyRepository
from application.ports.clock import Clock
from application.ports.credits import CreditLedger
from application.ports.usage import DayModelUsage, UsageQueries, UsageRecorder
from application.use_cases.limit_state import LimitState, ReadLimitState
from domain.accounts import Account
from domain.keys import ApiKey
from domain.plans import Period, period_start
from domain.usage import UsageRecord, UsageTotals

DEFAULT_DAYS = 30
MAX_DAYS = 366
DEFAULT_RECENT = 50
MAX_RECENT = 500


@dataclass(frozen=True, slots=True)
class Overview:
    account: Account
    balance_micros: int
    today: UsageTotals  # since UTC midnight
    day_start: datetime
    limits: LimitState
    active_keys: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    days: list[date]  # every UTC date of the range, oldest first, days without calls included
    per_day: list[UsageTotals]  # one per day, in the order of `days`
    models: list[str]  # every model used in the range, most requested first
    per_model: list[UsageTotals]  # one per model, in the order of `models`
    cells: dict[tuple[date, str], UsageTotals]  # (day, model) -> sums, only where there were calls
    total: UsageTotals
    recent: list[UsageRecord]  # newest first
    key_names: dict[str, str]  # key id -> name, for the recent calls
    limits: LimitState
    since: datetime  # the start of the first day


def _add(a: UsageTotals, b: UsageTotals) -> UsageTotals:
    return UsageTotals(
        a.requests + b.requests,
        a.prompt_tokens + b.prompt_tokens,
        a.completion_tokens + b.completion_tokens,
        a.cost_micros + b.cost_micros,
        a.charged_micros + b.charged_micros,
    )


def _gather(rows: list[DayModelUsage], days: list[date]) -> tuple[list[str], list[UsageTotals], list[UsageTotals]]:
    """Models by requests (then name), their sums, and the sums of each day: from the per-day-and-model rows."""
    zero = UsageTotals()
    by_day = dict.fromkeys(days, zero)
    by_model: dict[str, UsageTotals] = {}
    for row in rows:
        day = date.fromisoformat(row.day)
        by_day[day] = _add(by_day.get(day, zero), row.totals)
        by_model[row.model] = _add(by_model.get(row.model, zero), row.totals)
    models = sorted(by_model, key=lambda m: (-by_model[m].requests, m))
    return models, [by_model[m] for m in models], [by_day[d] for d in days]


class ShowOverview:
    def __init__(
        self,
        usage: UsageQueries,
        recorder: UsageRecorder,
        ledger: CreditLedger,
        keys: ApiKeyRepository,
        limits: ReadLimitState,
        clock: Clock,
    ) -> None:
        self._usage = usage
        self._recorder = recorder
        self._ledger = ledger
        self._keys = keys
        self._limits = limits
        self._clock = clock

    async def execute(self, account: Account, client_ip: str | None) -> Overview:
        await self._recorder.flush()
        now = self._clock.now()
        start = period_start(Period.DAY, now)
        today = (await self._usage.summary(account.id, start, None))[0].totals
        keys = await self._keys.list_for_account(account.id)
        return Overview(
            account=account,
            balance_micros=await self._ledger.balance(account.id),
            today=today,
            day_start=start,
            limits=await self._limits.execute(account, client_ip),
            active_keys=sum(1 for k in keys if k.is_active(now)),
        )


class ShowUsage:
    def __init__(
        self,
        usage: UsageQueries,
        recorder: UsageRecorder,
        keys: ApiKeyRepository,
        limits: ReadLimitState,
        clock: Clock,
    ) -> None:
        self._usage = usage
        self._recorder = recorder
        self._keys = keys
        self._limits = limits
        self._clock = clock

    async def execute(
        self, account: Account, client_ip: str | None, *, days: int = DEFAULT_DAYS, recent: int = DEFAULT_RECENT
    ) -> UsageReport:
        days = min(max(days, 1), MAX_DAYS)
        recent = min(max(recent, 1), MAX_RECENT)
        await self._recorder.flush()
        today = period_start(Period.DAY, self._clock.now())
        since = today - timedelta(days=days - 1)
        dates = [(since + timedelta(days=i)).date() for i in range(days)]
        rows = await self._usage.by_day_and_model(account.id, since)
        models, per_model, per_day = _gather(rows, dates)
        total = UsageTotals()
        for sums in per_day:
            total = _add(total, sums)
        keys: list[ApiKey] = await self._keys.list_for_account(account.id)
        return UsageReport(
            days=dates,
            per_day=per_day,
            models=models,
            per_model=per_model,
            cells={(date.fromisoformat(r.day), r.model): r.totals for r in rows},
            total=total,
            recent=await self._usage.recent(account.id, recent),
            key_names={k.id: k.name for k in keys},
            limits=await self._limits.execute(account, client_ip),
            since=since,
        )
