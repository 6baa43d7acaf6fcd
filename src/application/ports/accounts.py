from typing import Protocol

from domain.accounts import Account, AccountStatus


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None:
        """Raises Conflict when the email is taken."""
        ...

    async def get(self, account_id: str) -> Account | None: ...

    async def get_by_email(self, email: str) -> Account | None: ...

    async def save(self, account: Account) -> None:
        """Persists status, role, plan and rate-limit overrides of an existing account."""
        ...

    async def list_all(self, plan: str | None = None, status: AccountStatus | None = None) -> list[Account]:
        """Every account (by email), optionally only those on `plan` or in `status`."""
        ...
