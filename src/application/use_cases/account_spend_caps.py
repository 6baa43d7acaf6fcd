"""Per-account spend caps: an admin's overrides of an account's plan, period by period."""

from collections.abc import Sequence
from dataclasses import dataclass

from application.plan_book import PlanBook
from application.ports.accounts import AccountRepository
from application.use_cases.accounts import FindAccount
from domain.accounts import Account
from domain.errors import InvalidRequest
from domain.plans import Period, Plan, SpendCap, SpendCapOverride, effective_spend_caps, merge_spend_overrides


@dataclass(frozen=True, slots=True)
class AccountSpendCaps:
    account: Account  # after the call; `account.spend_caps` are the overrides
    previous: tuple[SpendCapOverride, ...]  # the overrides before the call
    plan: Plan  # the plan in force
    effective: tuple[SpendCap, ...]  # what the Meter caps the account by
    changed: bool

    def source(self, period: Period) -> str:
        """`account` where an override decides the period's cap (or lifts it), else `plan`."""
        return "account" if any(o.period is period for o in self.account.spend_caps) else "plan"


class SetAccountSpendCaps:
    """Sets, lifts or clears an account's spend caps; with nothing to change, reports them.

    `changes` replace the override of their period (a change without a limit lifts the plan's cap
    for that period); `reset` periods go back to the plan's cap; `clear` drops every override
    first. Gateways apply them within the key cache's lifetime (they are read with the key).
    """

    def __init__(self, accounts: AccountRepository, plans: PlanBook) -> None:
        self._accounts = accounts
        self._plans = plans
        self._find = FindAccount(accounts)

    async def execute(
        self,
        email: str,
        changes: Sequence[SpendCapOverride] = (),
        *,
        reset: Sequence[Period] = (),
        clear: bool = False,
    ) -> AccountSpendCaps:
        periods = [c.period for c in changes] + list(reset)
        if len(set(periods)) != len(periods):
            raise InvalidRequest("each period can be set once per call", param="spend_caps")
        account = await self._find.execute(email)
        plan = self._plans.get(account.plan)
        previous = account.spend_caps
        overrides = merge_spend_overrides((), changes) if clear else merge_spend_overrides(previous, changes, reset)
        changed = overrides != previous
        if changed:
            account = account.with_spend_caps(overrides)
            await self._accounts.save(account)
        return AccountSpendCaps(account, previous, plan, effective_spend_caps(plan, account.spend_caps), changed)
