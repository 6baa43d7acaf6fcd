from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.accounts import Account, AccountStatus, Role


@dataclass(frozen=True, slots=True)
class AccountCriteria:
    """What an admin searches accounts by; every field optional (none: every account)."""

    email_contains: str | None = None  # a substring of the (lower-case) email, matched literally
    plan: str | None = None
    status: AccountStatus | None = None
    role: Role | None = None


@dataclass(frozen=True, slots=True)
class AccountTally:
    accounts: int = 0
    banned: int = 0
    admins: int = 0
    active_keys: int = 0  # neither revoked nor expired
    by_plan: Mapping[str, int] = field(default_factory=dict)


class AccountDirectory(Protocol):
    """The admin console's reads over every account, beyond the per-account `AccountRepository`."""

    async def search(self, criteria: AccountCriteria, *, limit: int, offset: int = 0) -> tuple[list[Account], int]:
        """One page of the matching accounts by email, and how many match in all."""
        ...

    async def get_many(self, account_ids: Collection[str]) -> dict[str, Account]:
        """The accounts of those ids that exist, by id, in one read."""
        ...

    async def tally(self, now: datetime) -> AccountTally:
        """Accounts, banned ones, admins, keys active at `now`, and accounts per plan."""
        ...
