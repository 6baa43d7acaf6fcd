"""The admin console's reads over every account: search, many by id, and the counts."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.ports.account_directory import AccountCriteria, AccountTally
from domain.accounts import Account, AccountStatus, Role
from infrastructure.persistence.accounts import account_from_row
from infrastructure.persistence.tables import accounts, api_keys

_COLUMNS = (
    accounts.c.id,
    accounts.c.email,
    accounts.c.role,
    accounts.c.status,
    accounts.c.plan,
    accounts.c.created_at,
    accounts.c.rate_limits,
    accounts.c.spend_caps,
)


def _conditions(criteria: AccountCriteria) -> list[Any]:
    conditions = []
    if criteria.email_contains:
        # Literally: a % or _ typed into the search box is that character, not a wildcard.
        conditions.append(accounts.c.email.contains(criteria.email_contains.lower(), autoescape=True))
    if criteria.plan is not None:
        conditions.append(accounts.c.plan == criteria.plan)
    if criteria.status is not None:
        conditions.append(accounts.c.status == criteria.status.value)
    if criteria.role is not None:
        conditions.append(accounts.c.role == criteria.role.value)
    return conditions


class SqlAccountDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def search(self, criteria: AccountCriteria, *, limit: int, offset: int = 0) -> tuple[list[Account], int]:
        conditions = _conditions(criteria)
        page = select(*_COLUMNS).where(*conditions).order_by(accounts.c.email).limit(limit).offset(offset)
        count = select(func.count()).select_from(accounts).where(*conditions)
        async with self._sessions() as session:
            rows = (await session.execute(page)).all()
            total = int((await session.execute(count)).scalar_one())
        return [account_from_row(row) for row in rows], total

    async def get_many(self, account_ids: Collection[str]) -> dict[str, Account]:
        ids = sorted(set(account_ids))
        found: dict[str, Account] = {}
        async with self._sessions() as session:
            for start in range(0, len(ids), 500):  # well under every driver's bound-parameter limit
                statement = select(*_COLUMNS).where(accounts.c.id.in_(ids[start : start + 500]))
                for row in (await session.execute(statement)).all():
                    found[row.id] = account_from_row(row)
        return found

    async def tally(self, now: datetime) -> AccountTally:
        at = literal(now, DateTimeUTC())
        by_plan = select(accounts.c.plan, func.count()).group_by(accounts.c.plan).order_by(accounts.c.plan)
        counts = select(
            func.count(),
            func.coalesce(func.sum(case((accounts.c.status == AccountStatus.BANNED.value, 1), else_=0)), 0),
            func.coalesce(func.sum(case((accounts.c.role == Role.ADMIN.value, 1), else_=0)), 0),
        ).select_from(accounts)
        keys = select(func.count()).where(
            api_keys.c.revoked_at.is_(None), or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > at)
        )
        async with self._sessions() as session:
            total, banned, admins = (await session.execute(counts)).one()
            plans = {str(plan): int(n) for plan, n in (await session.execute(by_plan)).all()}
            active_keys = int((await session.execute(keys)).scalar_one())
        return AccountTally(int(total), int(banned), int(admins), active_keys, plans)
