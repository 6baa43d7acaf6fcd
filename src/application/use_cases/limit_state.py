"""Where an account stands against its limits: each rate bucket as a request would find it now, and
each spend cap with what has been spent in its period. Nothing is consumed by looking."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from application.metering import Meter
from application.plan_book import PlanBook
from application.ports.accounts import AccountRepository
from application.ports.api_keys import ApiKeyRepository
from application.ports.clock import Clock
from application.ports.rate_limiter import RateLimiter
from domain.accounts import Account
from domain.keys import ApiKey
from domain.plans import Plan, RatePolicy, SpendCap, Subject, period_end
from domain.rate_policy import Decision, LimitCheck

UNKNOWN_IP = "unknown"  # the subject admission counts a request without a client address under


@dataclass(frozen=True, slots=True)
class BucketState:
    policy: RatePolicy
    state: Decision  # `remaining` requests now; `reset_after` until the whole burst is back
    reset_at: datetime
    key: ApiKey | None = None  # the key counted, for a bucket per key
    ip: str | None = None  # the address counted, for a bucket per IP (the viewer's own)


@dataclass(frozen=True, slots=True)
class CapState:
    cap: SpendCap
    spent_micros: int
    resets_at: datetime

    @property
    def remaining_micros(self) -> int:
        return max(0, self.cap.limit_micros - self.spent_micros)


@dataclass(frozen=True, slots=True)
class LimitState:
    plan: Plan  # in force: the account's plan with its own overrides
    buckets: list[BucketState]
    caps: list[CapState]


class ReadLimitState:
    """A bucket per key is shown for each active key; a bucket per IP address for the address the
    viewer asks from, since that is the one their own calls from here are counted under.

    The account is read afresh: a session's copy may be a few seconds old, and an operator's new
    limits must show as soon as admission applies them.
    """

    def __init__(
        self,
        accounts: AccountRepository,
        keys: ApiKeyRepository,
        limiter: RateLimiter,
        meter: Meter,
        plans: PlanBook,
        clock: Clock,
    ) -> None:
        self._accounts = accounts
        self._keys = keys
        self._limiter = limiter
        self._meter = meter
        self._plans = plans
        self._clock = clock

    async def execute(self, account: Account, client_ip: str | None) -> LimitState:
        account = await self._accounts.get(account.id) or account
        plan = self._plans.in_force(account)
        now = self._clock.now()
        keys: list[ApiKey] = []
        if any(p.subject is Subject.KEY for p in plan.policies):
            keys = [k for k in await self._keys.list_for_account(account.id) if k.is_active(now)]
        wanted: list[tuple[RatePolicy, ApiKey | None, str | None]] = []
        checks: list[LimitCheck] = []
        for policy in plan.policies:
            if policy.subject is Subject.ACCOUNT:
                wanted.append((policy, None, None))
                checks.append(policy.check(account.id))
            elif policy.subject is Subject.KEY:
                for key in keys:
                    wanted.append((policy, key, None))
                    checks.append(policy.check(key.id))
            else:
                ip = client_ip or UNKNOWN_IP
                wanted.append((policy, None, ip))
                checks.append(policy.check(ip))
        states = await self._limiter.peek(checks) if checks else []
        buckets = [
            BucketState(policy, state, now + timedelta(seconds=state.reset_after), key, ip)
            for (policy, key, ip), state in zip(wanted, states, strict=True)
        ]
        caps = [
            CapState(cap, await self._meter.spent_in_period(account.id, cap.period), period_end(cap.period, now))
            for cap in plan.spend_caps
        ]
        return LimitState(plan, buckets, caps)
