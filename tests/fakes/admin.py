"""In-memory `AuditLog` and `AccountDirectory`, for the admin use cases' tests."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from application.ports.account_directory import AccountCriteria, AccountTally
from domain.accounts import Account, AccountStatus, Role
from domain.audit import AuditEntry, AuditQuery
from tests.fakes.memory import InMemoryAccountRepository, InMemoryApiKeyRepository


class InMemoryAuditLog:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []  # in the order written
        self.failing = False  # `record` raises, as an unreachable database would

    async def record(self, entry: AuditEntry) -> AuditEntry:
        if self.failing:
            raise ConnectionError("audit log unreachable")
        written = replace(entry, seq=len(self.entries) + 1)
        self.entries.append(written)
        return written

    async def find(self, query: AuditQuery) -> list[AuditEntry]:
        return [e for e in reversed(self.entries) if query.matches(e)][: query.limit]


class InMemoryAccountDirectory:
    def __init__(self, accounts: InMemoryAccountRepository, keys: InMemoryApiKeyRepository | None = None) -> None:
        self._accounts = accounts
        self._keys = keys

    def _matching(self, criteria: AccountCriteria) -> list[Account]:
        found = [
            a
            for a in self._accounts.all
            if (criteria.email_contains is None or criteria.email_contains.lower() in a.email)
            and criteria.plan in (None, a.plan)
            and criteria.status in (None, a.status)
            and criteria.role in (None, a.role)
        ]
        return sorted(found, key=lambda a: a.email)

    async def search(self, criteria: AccountCriteria, *, limit: int, offset: int = 0) -> tuple[list[Account], int]:
        found = self._matching(criteria)
        return found[offset : offset + limit], len(found)

    async def get_many(self, account_ids: Collection[str]) -> dict[str, Account]:
        by_id = self._accounts.all_by_id
        return {i: by_id[i] for i in account_ids if i in by_id}

    async def tally(self, now: datetime) -> AccountTally:
        every = self._accounts.all
        by_plan: dict[str, int] = {}
        for a in every:
            by_plan[a.plan] = by_plan.get(a.plan, 0) + 1
        active = 0
        if self._keys is not None:
            active = sum([await self._keys.count_active(a.id, now) for a in every])
        return AccountTally(
            accounts=len(every),
            banned=sum(a.status is AccountStatus.BANNED for a in every),
            admins=sum(a.role is Role.ADMIN for a in every),
            active_keys=active,
            by_plan=dict(sorted(by_plan.items())),
        )
