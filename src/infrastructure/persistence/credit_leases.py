"""Durable credit leases: the ledger entries that take and return them, and the row saying who holds one.

Opening is one transaction (a conditional balance move, the RESERVE entry, the lease row), and so
is closing (the SETTLE entry keyed `<lease>:close`, the balance move, the row marked closed). The
close key is shared by the owner and any reclaimer, so a lease is returned once whoever gets there
first; the balance still equals the sum of the entries after either.
"""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.credits import EntryKind, LedgerEntry
from domain.leases import Lease, LeaseStanding, close_key, returned_micros
from infrastructure.persistence.credits import insert_entry, move_balance
from infrastructure.persistence.tables import accounts, credit_leases, usage_records

_NOTE = "lease"


def _lease(row) -> Lease:  # type: ignore[no-untyped-def]
    return Lease(row.id, row.account_id, row.amount_micros, row.owner, row.opened_at, row.expires_at)


def _spent(lease_id):  # type: ignore[no-untyped-def]
    return select(func.coalesce(func.sum(usage_records.c.charged_micros), 0)).where(
        usage_records.c.lease_id == lease_id
    )


class SqlCreditLeases:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def open(self, lease: Lease) -> bool:
        taken = LedgerEntry(
            lease.account_id, EntryKind.RESERVE, -lease.amount_micros, lease.id, lease.opened_at, note=_NOTE
        )
        # One conditional UPDATE decides and takes the amount: concurrent openers queue on the row.
        take = (
            move_balance(taken)
            .where(accounts.c.balance_micros >= lease.amount_micros, accounts.c.balance_micros > 0)
            .returning(accounts.c.balance_micros)
        )
        async with self._sessions() as session, session.begin():
            if (await session.execute(take)).scalar_one_or_none() is None:
                return False
            if not await insert_entry(session, taken):
                raise RuntimeError(f"lease id {lease.id} was used before")  # ids are unique per process
            await session.execute(
                credit_leases.insert().values(
                    id=lease.id,
                    account_id=lease.account_id,
                    amount_micros=lease.amount_micros,
                    owner=lease.owner,
                    opened_at=lease.opened_at,
                    expires_at=lease.expires_at,
                )
            )
        return True

    async def close(self, lease_id: str, returned: int, now: datetime) -> bool:
        async with self._sessions() as session, session.begin():
            row = await self._locked(session, lease_id)
            if row is None:
                return False
            return await self._close(session, _lease(row), returned, now, "owner")

    async def reclaim(self, lease_id: str, now: datetime) -> int | None:
        async with self._sessions() as session, session.begin():
            row = await self._locked(session, lease_id)
            # Checked again under the row lock: its owner may have renewed it since it was listed.
            if row is None or row.closed_at is not None or row.expires_at > now:
                return None
            lease = _lease(row)
            amount = returned_micros(lease, int((await session.execute(_spent(lease_id))).scalar_one()))
            return amount if await self._close(session, lease, amount, now, "reclaim") else None

    @staticmethod
    async def _locked(session: AsyncSession, lease_id: str):  # type: ignore[no-untyped-def]
        # FOR UPDATE on Postgres serializes a close with a renewal; SQLite locks the whole file anyway.
        statement = select(credit_leases).where(credit_leases.c.id == lease_id).with_for_update()
        return (await session.execute(statement)).first()

    @staticmethod
    async def _close(session: AsyncSession, lease: Lease, returned: int, now: datetime, by: str) -> bool:
        back = LedgerEntry(lease.account_id, EntryKind.SETTLE, returned, close_key(lease.id), now, note=_NOTE)
        written = await insert_entry(session, back)
        if written:
            await session.execute(move_balance(back))
        # Marked closed either way: an entry written by the other closer means it is closed too.
        await session.execute(
            update(credit_leases)
            .where(credit_leases.c.id == lease.id, credit_leases.c.closed_at.is_(None))
            .values(closed_at=now, returned_micros=returned if written else None, closed_by=by)
        )
        return written

    async def renew(self, lease_ids: Collection[str], expires_at: datetime) -> set[str]:
        if not lease_ids:
            return set()
        statement = (
            update(credit_leases)
            .where(credit_leases.c.id.in_(list(lease_ids)), credit_leases.c.closed_at.is_(None))
            .values(expires_at=expires_at)
            .returning(credit_leases.c.id)
        )
        async with self._sessions() as session, session.begin():
            return set((await session.execute(statement)).scalars())

    async def expired(self, now: datetime) -> list[Lease]:
        statement = (
            select(credit_leases)
            .where(credit_leases.c.closed_at.is_(None), credit_leases.c.expires_at <= now)
            .order_by(credit_leases.c.opened_at)
        )
        async with self._sessions() as session:
            return [_lease(row) for row in (await session.execute(statement)).all()]

    async def standing(self) -> list[LeaseStanding]:
        spent = _spent(credit_leases.c.id).scalar_subquery()  # per open lease, by the lease_id index
        statement = (
            select(credit_leases, accounts.c.email, spent.label("spent"))
            .join(accounts, accounts.c.id == credit_leases.c.account_id)
            .where(credit_leases.c.closed_at.is_(None))
            .order_by(credit_leases.c.opened_at)
        )
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
        return [LeaseStanding(_lease(row), row.email, int(row.spent)) for row in rows]
