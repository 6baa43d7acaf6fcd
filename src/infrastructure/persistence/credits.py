"""The credits ledger: entries plus a cached balance that moves in the same transaction.

Invariant: accounts.balance_micros equals the sum of the account's credit_entries, always. Every
write below inserts an entry and moves the balance by its amount in one transaction, or neither.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.credits import EntryKind, LedgerEntry, WriteOutcome
from infrastructure.persistence.engine import dialect_insert
from infrastructure.persistence.tables import accounts, credit_entries


def _values(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "account_id": entry.account_id,
        "kind": entry.kind.value,
        "amount_micros": entry.amount_micros,
        "idempotency_key": entry.idempotency_key,
        "note": entry.note,
        "created_at": entry.created_at,
    }


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        account_id=row.account_id,
        kind=EntryKind(row.kind),
        amount_micros=row.amount_micros,
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        note=row.note,
    )


def move_balance(entry: LedgerEntry) -> Any:
    return (
        update(accounts)
        .where(accounts.c.id == entry.account_id)
        .values(balance_micros=accounts.c.balance_micros + entry.amount_micros)
    )


async def insert_entry(session: AsyncSession, entry: LedgerEntry) -> bool:
    """Inserts the entry unless its idempotency key exists; True when it was written."""
    statement = dialect_insert(session, credit_entries).on_conflict_do_nothing(
        index_elements=[credit_entries.c.idempotency_key]
    )
    result = await session.execute(statement, _values(entry))
    return result.rowcount == 1


class _AlreadyHeld(Exception):
    """A retry of a reservation that is already written under its idempotency key."""


class SqlCreditLedger:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def balance(self, account_id: str) -> int:
        statement = select(accounts.c.balance_micros).where(accounts.c.id == account_id)
        async with self._sessions() as session:
            value = (await session.execute(statement)).scalar_one_or_none()
        return int(value or 0)

    async def append(self, entry: LedgerEntry) -> bool:
        async with self._sessions() as session, session.begin():
            if not await insert_entry(session, entry):
                return False  # written before under this key: the balance already moved then
            await session.execute(move_balance(entry))
        return True

    async def reserve(self, entry: LedgerEntry) -> int | None:
        needed = -entry.amount_micros
        # One conditional UPDATE decides and takes the hold atomically: concurrent reservations
        # queue on the row lock and each re-checks the balance the one before it left.
        take = (
            move_balance(entry)
            .where(accounts.c.balance_micros >= needed, accounts.c.balance_micros > 0)
            .returning(accounts.c.balance_micros)
        )
        try:
            async with self._sessions() as session, session.begin():
                balance = (await session.execute(take)).scalar_one_or_none()
                if balance is None:
                    if await self._written(session, entry):
                        raise _AlreadyHeld  # held before: the balance left over is what is short
                    return None  # short (or no such account): nothing written
                if not await insert_entry(session, entry):
                    raise _AlreadyHeld  # rolls the second hold back
                return int(balance)
        except _AlreadyHeld:
            return await self.balance(entry.account_id)

    async def entries(self, account_id: str) -> list[LedgerEntry]:
        statement = (
            select(credit_entries).where(credit_entries.c.account_id == account_id).order_by(credit_entries.c.id)
        )
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
        return [_entry(row) for row in rows]

    @staticmethod
    async def _written(session: AsyncSession, entry: LedgerEntry) -> bool:
        statement = select(credit_entries.c.id).where(credit_entries.c.idempotency_key == entry.idempotency_key)
        return (await session.execute(statement)).first() is not None

    async def sync(self, account_id: str | None = None) -> None:
        """Every entry is written as it comes: nothing to sync."""

    def payer(self, request_id: str) -> str | None:
        return None  # holds are entries of their own here, not shares of a lease

    # --- operator commands (CreditAdmin): lookups by key, deductions, many balances ---

    async def entry_by_key(self, idempotency_key: str) -> LedgerEntry | None:
        statement = select(credit_entries).where(credit_entries.c.idempotency_key == idempotency_key)
        async with self._sessions() as session:
            row = (await session.execute(statement)).first()
        return None if row is None else _entry(row)

    async def deduct(self, entry: LedgerEntry) -> tuple[WriteOutcome, int]:
        # The same conditional UPDATE as a reservation, but a deduction may empty the balance
        # exactly (a hold needs a positive balance; taking the last cent back is fine).
        take = (
            move_balance(entry)
            .where(accounts.c.balance_micros >= -entry.amount_micros)
            .returning(accounts.c.balance_micros)
        )
        try:
            async with self._sessions() as session, session.begin():
                balance = (await session.execute(take)).scalar_one_or_none()
                if balance is None:
                    short = WriteOutcome.DUPLICATE if await self._written(session, entry) else WriteOutcome.SHORT
                    return short, await self._balance_in(session, entry.account_id)
                if not await insert_entry(session, entry):
                    raise _AlreadyHeld  # rolls the balance move back
                return WriteOutcome.WRITTEN, int(balance)
        except _AlreadyHeld:
            return WriteOutcome.DUPLICATE, await self.balance(entry.account_id)

    async def balances(self, account_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        ids = list(account_ids)
        async with self._sessions() as session:
            for start in range(0, len(ids), 500):  # well under every driver's bound-parameter limit
                chunk = ids[start : start + 500]
                statement = select(accounts.c.id, accounts.c.balance_micros).where(accounts.c.id.in_(chunk))
                found.update({row.id: int(row.balance_micros) for row in (await session.execute(statement)).all()})
        return found

    @staticmethod
    async def _balance_in(session: AsyncSession, account_id: str) -> int:
        statement = select(accounts.c.balance_micros).where(accounts.c.id == account_id)
        return int((await session.execute(statement)).scalar_one_or_none() or 0)
