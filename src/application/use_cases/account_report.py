from dataclasses import dataclass

from application.plan_book import PlanBook
from application.ports.accounts import AccountRepository
from application.ports.api_keys import ApiKeyRepository
from application.ports.clock import Clock
from application.ports.credit_admin import CreditAdmin
from application.ports.usage import UsageQueries
from application.use_cases.accounts import FindAccount
from domain.accounts import Account
from domain.keys import ApiKey
from domain.plans import Period, SpendCap, effective_spend_caps, period_start


@dataclass(frozen=True, slots=True)
class AccountReport:
    """What an operator sees of one account: who, what plan, what it holds and what it spent."""

    account: Account
    balance_micros: int
    keys: list[ApiKey]
    spent_micros: dict[Period, int]  # charged since the start of each period (as caps count it)
    spend_caps: tuple[SpendCap, ...]  # in force: the plan's, with the account's overrides
    plan_configured: bool  # False: the account's plan is gone from the configuration (the default applies)


class DescribeAccount:
    def __init__(
        self,
        accounts: AccountRepository,
        keys: ApiKeyRepository,
        credits: CreditAdmin,
        usage: UsageQueries,
        plans: PlanBook,
        clock: Clock,
    ) -> None:
        self._find = FindAccount(accounts)
        self._keys = keys
        self._credits = credits
        self._usage = usage
        self._plans = plans
        self._clock = clock

    async def execute(self, email: str) -> AccountReport:
        account = await self._find.execute(email)
        now = self._clock.now()
        spent = {p: await self._usage.charged_since(account.id, period_start(p, now)) for p in Period}
        plan = self._plans.get(account.plan)
        return AccountReport(
            account=account,
            balance_micros=(await self._credits.balances([account.id])).get(account.id, 0),
            keys=await self._keys.list_for_account(account.id),
            spent_micros=spent,
            spend_caps=effective_spend_caps(plan, account.spend_caps),
            plan_configured=plan.name == account.plan,
        )
