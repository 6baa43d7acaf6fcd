"""Per-account rate limits: the operator's overrides of an account's plan, bucket by bucket."""

from collections.abc import Sequence
from dataclasses import dataclass

from application.plan_book import PlanBook
from application.ports.accounts import AccountRepository
from application.use_cases.accounts import FindAccount
from domain.accounts import Account
from domain.errors import InvalidRequest
from domain.plans import Plan, RatePolicy, Subject, effective_policies, merge_overrides, rate_override


@dataclass(frozen=True, slots=True)
class LimitSetting:
    """`bucket` gets `requests` per `window_seconds` (the CLI's `--set chat=1000/1m`)."""

    bucket: str
    requests: int
    window_seconds: float


@dataclass(frozen=True, slots=True)
class AccountLimits:
    account: Account  # after the call; `account.rate_limits` are the overrides
    plan: Plan  # the plan in force (the default plan when the account's is no longer configured)
    effective: tuple[RatePolicy, ...]  # what the account is limited by: the plan's, overrides first
    changed: bool  # False when the call changed nothing (or only reported)
    previous: tuple[RatePolicy, ...] = ()  # the overrides before the call

    def overridden(self, policy: RatePolicy) -> bool:
        return policy in self.account.rate_limits


class SetAccountLimits:
    """Sets, replaces or clears an account's overrides; with nothing to change, reports them.

    `clear` drops every override first, so `clear` with `settings` replaces them all; `settings`
    alone change the buckets they name and keep the others. `subject` (account, key or ip) applies
    to every setting; without it a bucket keeps its current subject.
    """

    def __init__(self, accounts: AccountRepository, plans: PlanBook) -> None:
        self._accounts = accounts
        self._plans = plans
        self._find = FindAccount(accounts)

    async def execute(
        self,
        email: str,
        settings: Sequence[LimitSetting] = (),
        *,
        subject: Subject | None = None,
        clear: bool = False,
    ) -> AccountLimits:
        if subject is not None and not settings:
            raise InvalidRequest("a subject applies to the limits being set: name at least one", param="subject")
        account = await self._find.execute(email)
        plan = self._plans.get(account.plan)
        current = () if clear else account.rate_limits
        changes = [rate_override(plan, current, s.bucket, s.requests, s.window_seconds, subject) for s in settings]
        if len({c.name for c in changes}) != len(changes):
            raise InvalidRequest("each bucket can be set once per call", param="set")
        overrides = merge_overrides(current, changes)
        previous = account.rate_limits
        changed = overrides != previous
        if changed:
            account = account.with_rate_limits(overrides)
            await self._accounts.save(account)
        return AccountLimits(account, plan, effective_policies(plan, account.rate_limits), changed, previous)
