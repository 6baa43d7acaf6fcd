from dataclasses import dataclass

from application.plan_book import PlanBook
from application.ports.accounts import AccountRepository
from application.ports.audit_log import AuditLog
from application.use_cases.account_report import AccountReport, DescribeAccount
from domain.accounts import Account
from domain.audit import AuditEntry, AuditQuery
from domain.errors import NotFound
from domain.plans import Period, Plan, RatePolicy, effective_policies


@dataclass(frozen=True, slots=True)
class AccountInspection:
    report: AccountReport  # balance, keys, spend this period, caps in force
    plan: Plan  # the plan in force
    limits: tuple[RatePolicy, ...]  # in force: the plan's with the account's overrides
    recent: tuple[AuditEntry, ...]  # the newest audit entries about the account or its keys

    def cap_source(self, period: Period) -> str:
        return "account" if any(o.period is period for o in self.report.account.spend_caps) else "plan"

    def limit_source(self, policy: RatePolicy) -> str:
        return "account" if policy in self.report.account.rate_limits else "plan"


class GetAccount:
    def __init__(self, accounts: AccountRepository) -> None:
        self._accounts = accounts

    async def execute(self, account_id: str) -> Account:
        account = await self._accounts.get(account_id.strip())
        if account is None:
            raise NotFound(f"no account with id {account_id}")
        return account


class InspectAccount:
    """Everything the console shows of one account, by its id."""

    def __init__(
        self, accounts: AccountRepository, describe: DescribeAccount, plans: PlanBook, audit: AuditLog
    ) -> None:
        self._accounts = accounts
        self._describe = describe
        self._plans = plans
        self._audit = audit

    async def execute(self, account_id: str, *, recent: int = 20) -> AccountInspection:
        account = await self._accounts.get(account_id.strip())
        if account is None:
            raise NotFound(f"no account with id {account_id}")
        report = await self._describe.execute(account.email)
        plan = self._plans.get(account.plan)
        entries = await self._audit.find(AuditQuery(target=account.id, limit=recent))
        return AccountInspection(report, plan, effective_policies(plan, account.rate_limits), tuple(entries))
