"""Moving an account to another plan."""

from dataclasses import dataclass

from application.plan_book import PlanBook
from application.ports.accounts import AccountRepository
from application.use_cases.accounts import FindAccount
from domain.accounts import Account


@dataclass(frozen=True, slots=True)
class PlanChange:
    account: Account  # after the call
    previous: str  # the plan it was on
    changed: bool  # False: it was on that plan already


class ChangeAccountPlan:
    """Puts the account on a configured plan; its rate-limit and spend-cap overrides stay as they are.

    Gateways apply the new plan within the key cache's lifetime (the plan is read with the key).
    """

    def __init__(self, accounts: AccountRepository, plans: PlanBook) -> None:
        self._accounts = accounts
        self._plans = plans
        self._find = FindAccount(accounts)

    async def execute(self, email: str, plan: str) -> PlanChange:
        name = self._plans.require(plan.strip()).name
        account = await self._find.execute(email)
        if account.plan == name:
            return PlanChange(account, name, False)
        changed = account.on_plan(name)
        await self._accounts.save(changed)
        return PlanChange(changed, account.plan, True)
