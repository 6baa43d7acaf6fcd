from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.credits import CreditLedger
from application.ports.usage import UsageQueries, UsageRecorder
from application.principal import Principal
from domain.plans import Period, RatePolicy, SpendCap, period_start
from domain.usage import UsageTotals


class GetAccountStats:
    def __init__(self, usage: UsageQueries, recorder: UsageRecorder, ledger: CreditLedger) -> None:
        self._usage = usage
        self._recorder = recorder
        self._ledger = ledger

    async def execute(self, principal: Principal) -> UsageTotals:
        # A caller reading its stats right after a call expects to see that call (and its balance).
        await self._recorder.flush()
        await self._ledger.sync(principal.account.id)
        return await self._usage.totals_for_account(principal.account.id)


@dataclass(frozen=True, slots=True)
class KeyReport:
    """What a program may learn of its own key and budget (OpenRouter's GET /key)."""

    label: str
    usage_micros: int
    usage_daily_micros: int
    usage_weekly_micros: int
    usage_monthly_micros: int
    limit_micros: int | None
    limit_remaining_micros: int | None
    limit_reset: str | None
    rate_limit: RatePolicy | None
    prepaid: bool


class DescribeKey:
    def __init__(self, usage: UsageQueries, recorder: UsageRecorder, ledger: CreditLedger, clock: Clock) -> None:
        self._usage = usage
        self._recorder = recorder
        self._ledger = ledger
        self._clock = clock

    async def execute(self, principal: Principal) -> KeyReport:
        await self._recorder.flush()
        await self._ledger.sync(principal.account.id)
        key, plan, now = principal.key, principal.plan, self._clock.now()
        account_id = principal.account.id
        totals = await self._usage.totals_for_key(key.id)
        by_period = {
            p: await self._usage.charged_since(account_id, period_start(p, now), key_id=key.id) for p in Period
        }
        limit: int | None = None
        remaining: int | None = None
        reset: str | None = None
        if plan.prepaid:
            balance = await self._ledger.balance(account_id)
            remaining = max(balance, 0)
            limit = remaining + totals.charged_micros
        elif plan.spend_caps:
            cap: SpendCap = min(plan.spend_caps, key=lambda c: c.limit_micros)
            spent = await self._usage.charged_since(account_id, period_start(cap.period, now))
            limit, remaining = cap.limit_micros, max(cap.limit_micros - spent, 0)
            reset = cap.period.adjective
        chat = [p for p in plan.policies if p.name == "chat"] or list(plan.policies)
        return KeyReport(
            label=key.name,
            usage_micros=totals.charged_micros,
            usage_daily_micros=by_period[Period.DAY],
            usage_weekly_micros=by_period[Period.WEEK],
            usage_monthly_micros=by_period[Period.MONTH],
            limit_micros=limit,
            limit_remaining_micros=remaining,
            limit_reset=reset,
            rate_limit=chat[0] if chat else None,
            prepaid=plan.prepaid,
        )
