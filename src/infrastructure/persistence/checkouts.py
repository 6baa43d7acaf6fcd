"""The checkouts started (table `payments`): written when created, closed once by a verified event."""

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.payments import Checkout, CheckoutStatus
from infrastructure.persistence.tables import payments


def _checkout(row: Any) -> Checkout:
    return Checkout(
        session_id=row.checkout_session_id,
        account_id=row.account_id,
        package_id=row.package_id,
        amount_cents=row.amount_cents,
        currency=row.currency,
        credits_micros=row.credits_micros,
        status=CheckoutStatus(row.status),
        created_at=row.created_at,
        completed_at=row.completed_at,
    )


class SqlCheckoutStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, checkout: Checkout) -> None:
        values = {
            "checkout_session_id": checkout.session_id,
            "account_id": checkout.account_id,
            "package_id": checkout.package_id,
            "amount_cents": checkout.amount_cents,
            "currency": checkout.currency,
            "credits_micros": checkout.credits_micros,
            "status": checkout.status.value,
            "created_at": checkout.created_at,
            "completed_at": checkout.completed_at,
        }
        async with self._sessions() as session, session.begin():
            await session.execute(insert(payments), values)

    async def get(self, session_id: str) -> Checkout | None:
        statement = select(payments).where(payments.c.checkout_session_id == session_id)
        async with self._sessions() as session:
            row = (await session.execute(statement)).first()
        return None if row is None else _checkout(row)

    async def close(self, session_id: str, status: CheckoutStatus, now: datetime) -> bool:
        statement = (
            update(payments)
            .where(payments.c.checkout_session_id == session_id, payments.c.status == CheckoutStatus.OPEN.value)
            .values(status=status.value, completed_at=now)
        )
        async with self._sessions() as session, session.begin():
            return (await session.execute(statement)).rowcount == 1

    async def for_account(self, account_id: str, limit: int) -> list[Checkout]:
        statement = (
            select(payments)
            .where(payments.c.account_id == account_id)
            .order_by(payments.c.created_at.desc(), payments.c.checkout_session_id)
            .limit(limit)
        )
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
        return [_checkout(row) for row in rows]
