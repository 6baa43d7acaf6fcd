from application.access_caches import AccessCaches
from application.plan_book import PlanBook
from application.ports.accounts import AccountRepository
from application.ports.clock import Clock
from application.ports.credit_admin import CreditAdmin
from domain.accounts import Account, AccountStatus, new_account, normalize_email
from domain.errors import Conflict, NotFound


class CreateAccount:
    def __init__(self, accounts: AccountRepository, plans: PlanBook, clock: Clock) -> None:
        self._accounts = accounts
        self._plans = plans
        self._clock = clock

    async def execute(self, email: str, plan: str | None = None, *, admin: bool = False) -> Account:
        plan_name = self._plans.require(plan).name if plan else self._plans.default_name
        account = new_account(email, plan_name, self._clock.now(), admin=admin)
        if await self._accounts.get_by_email(account.email) is not None:
            raise Conflict(f"an account for {account.email} exists already")
        await self._accounts.add(account)
        return account


class FindAccount:
    def __init__(self, accounts: AccountRepository) -> None:
        self._accounts = accounts

    async def execute(self, email: str) -> Account:
        account = await self._accounts.get_by_email(normalize_email(email))
        if account is None:
            raise NotFound(f"no account for {email}")
        return account


class SetAccountBanned:
    """Bans or unbans: at once in this process, within the key cache's lifetime in every other."""

    def __init__(self, accounts: AccountRepository, caches: AccessCaches) -> None:
        self._accounts = accounts
        self._find = FindAccount(accounts)
        self._caches = caches

    async def execute(self, email: str, banned: bool) -> tuple[Account, bool]:
        """The account after the call, and whether this call changed it (False: it was so already)."""
        account = await self._find.execute(email)
        if account.is_banned == banned:
            self._caches.forget_account(account.id)  # changed elsewhere, perhaps, and still cached here
            return account, False
        changed = account.banned() if banned else account.unbanned()
        await self._accounts.save(changed)
        self._caches.forget_account(account.id)
        return changed, True


class ListAccounts:
    def __init__(self, accounts: AccountRepository, credits: CreditAdmin) -> None:
        self._accounts = accounts
        self._credits = credits

    async def execute(self, plan: str | None = None, *, banned: bool = False) -> list[tuple[Account, int]]:
        """Accounts by email with their balances; `banned` keeps only banned ones."""
        found = await self._accounts.list_all(plan, AccountStatus.BANNED if banned else None)
        balances = await self._credits.balances([a.id for a in found])
        return [(account, balances.get(account.id, 0)) for account in found]
