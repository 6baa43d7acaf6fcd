import logging
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.accounts import Account, AccountStatus, Role
from domain.errors import Conflict, InvalidRequest
from domain.plans import Endpoint, RatePolicy, Subject
from infrastructure.persistence.tables import accounts

log = logging.getLogger("sluice.persistence")

_COLUMNS = (
    accounts.c.id,
    accounts.c.email,
    accounts.c.role,
    accounts.c.status,
    accounts.c.plan,
    accounts.c.created_at,
    accounts.c.rate_limits,
)


def account_columns() -> tuple[Any, ...]:
    """What an account row maps from (the password hash is not among them)."""
    return _COLUMNS


def rate_limits_to_json(policies: tuple[RatePolicy, ...]) -> list[dict[str, Any]] | None:
    """The `accounts.rate_limits` value: None (SQL NULL) for no overrides."""
    if not policies:
        return None
    return [
        {
            "name": p.name,
            "endpoints": sorted(e.value for e in p.endpoints),
            "requests": p.limit,
            "window_seconds": p.window_seconds,
            "subject": p.subject.value,
        }
        for p in policies
    ]


def rate_limits_from_json(value: Any, account_id: str = "?") -> tuple[RatePolicy, ...]:
    """Overrides as stored; an entry that cannot be read (a hand edit) is skipped and logged, so one
    bad row never locks its account out: the plan's limit applies to that bucket instead."""
    if not value:
        return ()
    if not isinstance(value, list):
        log.warning("account %s: rate_limits is not a list; ignored", account_id)
        return ()
    policies: list[RatePolicy] = []
    for item in value:
        try:
            policies.append(
                RatePolicy(
                    name=str(item["name"]),
                    endpoints=frozenset(Endpoint(e) for e in item["endpoints"]),
                    limit=int(item["requests"]),
                    window_seconds=float(item["window_seconds"]),
                    subject=Subject(item.get("subject", "account")),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError, InvalidRequest):
            log.warning("account %s: unreadable rate limit override %r ignored", account_id, item)
    return tuple(policies)


def account_from_row(row: Any) -> Account:
    return Account(
        id=row.id,
        email=row.email,
        role=Role(row.role),
        status=AccountStatus(row.status),
        plan=row.plan,
        created_at=row.created_at,
        rate_limits=rate_limits_from_json(row.rate_limits, row.id),
    )


class SqlAccountRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, account: Account) -> None:
        values = {
            "id": account.id,
            "email": account.email,
            "role": account.role.value,
            "status": account.status.value,
            "plan": account.plan,
            "balance_micros": 0,
            "created_at": account.created_at,
            "rate_limits": rate_limits_to_json(account.rate_limits),
        }
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(insert(accounts), values)
        except IntegrityError as exc:
            # The email is the only unique column a caller controls (ids are random).
            raise Conflict(f"an account for {account.email} exists already") from exc

    async def get(self, account_id: str) -> Account | None:
        return await self._one(accounts.c.id == account_id)

    async def get_by_email(self, email: str) -> Account | None:
        return await self._one(accounts.c.email == email)

    async def save(self, account: Account) -> None:
        statement = (
            update(accounts)
            .where(accounts.c.id == account.id)
            .values(
                role=account.role.value,
                status=account.status.value,
                plan=account.plan,
                rate_limits=rate_limits_to_json(account.rate_limits),
            )
        )
        async with self._sessions() as session, session.begin():
            await session.execute(statement)

    async def list_all(self, plan: str | None = None, status: AccountStatus | None = None) -> list[Account]:
        statement = select(*_COLUMNS).order_by(accounts.c.email)
        if plan is not None:
            statement = statement.where(accounts.c.plan == plan)
        if status is not None:
            statement = statement.where(accounts.c.status == status.value)
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
        return [account_from_row(row) for row in rows]

    async def _one(self, condition: Any) -> Account | None:
        async with self._sessions() as session:
            row = (await session.execute(select(*_COLUMNS).where(condition))).first()
        return None if row is None else account_from_row(row)
