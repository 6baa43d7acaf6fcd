"""An account's ledger entries, a page at a time, newest first (the credits page's history)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.credits import EntryKind, LedgerEntry
from infrastructure.persistence.tables import credit_entries


class SqlCreditHistory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def recent(self, account_id: str, offset: int, limit: int) -> list[LedgerEntry]:
        # ix_credit_entries_account_id_id serves this read backwards: no sort of the account's rows.
        statement = (
            select(credit_entries)
            .where(credit_entries.c.account_id == account_id)
            .order_by(credit_entries.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
        return [
            LedgerEntry(
                account_id=row.account_id,
                kind=EntryKind(row.kind),
                amount_micros=row.amount_micros,
                idempotency_key=row.idempotency_key,
                created_at=row.created_at,
                note=row.note,
            )
            for row in rows
        ]
