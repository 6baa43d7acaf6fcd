from dataclasses import dataclass

from application.ports.account_directory import AccountCriteria, AccountDirectory
from application.ports.credit_admin import CreditAdmin
from domain.accounts import Account
from domain.errors import InvalidRequest

MAX_PER_PAGE = 200


@dataclass(frozen=True, slots=True)
class AccountsFound:
    rows: list[tuple[Account, int]]  # each account with its balance (micro-dollars)
    total: int  # how many match in all
    page: int  # from 1
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class SearchAccounts:
    """Accounts by email substring, plan, status and role, by email, a page at a time."""

    def __init__(self, directory: AccountDirectory, credits: CreditAdmin) -> None:
        self._directory = directory
        self._credits = credits

    async def execute(self, criteria: AccountCriteria, *, page: int = 1, per_page: int = 50) -> AccountsFound:
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise InvalidRequest(f"a page holds 1 to {MAX_PER_PAGE} accounts", param="per_page")
        if page < 1:
            raise InvalidRequest("pages count from 1", param="page")
        text = (criteria.email_contains or "").strip().lower() or None
        criteria = AccountCriteria(text, criteria.plan or None, criteria.status, criteria.role)
        found, total = await self._directory.search(criteria, limit=per_page, offset=(page - 1) * per_page)
        balances = await self._credits.balances([a.id for a in found])
        return AccountsFound([(a, balances.get(a.id, 0)) for a in found], total, page, per_page)
