"""Redemption codes and their redemptions; a use is counted by one conditional UPDATE.

Concurrent redemptions of one code queue on its row lock, and each re-checks `uses < max_uses`
against the count the one before it left (Postgres re-evaluates the WHERE of a blocked UPDATE on
the row as committed; SQLite lets one writer at a time), so a code of N uses admits exactly N,
whichever processes the requests reach. The redemption row is inserted in the same transaction;
its unique (code, account) pair rolls the use back when the account redeemed the code before.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.ports.redemption_codes import RedeemOutcome
from domain.redemption import RedeemRefusal, RedemptionCode
from infrastructure.persistence.engine import dialect_insert
from infrastructure.persistence.tables import redemption_codes, redemptions

_COLUMNS = tuple(redemption_codes.c)


def _code(row: Any) -> RedemptionCode:
    return RedemptionCode(
        id=row.id,
        code_hash=row.code_hash,
        credits_micros=row.credits_micros,
        max_uses=row.max_uses,
        uses=row.uses,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class _RedeemedBefore(Exception):
    """The account holds a redemption of this code already: roll the counted use back."""


class SqlRedemptionCodes:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add_many(self, codes: Sequence[RedemptionCode]) -> None:
        rows = [
            {
                "id": code.id,
                "code_hash": code.code_hash,
                "credits_micros": code.credits_micros,
                "max_uses": code.max_uses,
                "uses": code.uses,
                "expires_at": code.expires_at,
                "created_by": code.created_by,
                "created_at": code.created_at,
                "revoked_at": code.revoked_at,
            }
            for code in codes
        ]
        if rows:
            async with self._sessions() as session, session.begin():
                await session.execute(insert(redemption_codes), rows)

    async def get(self, code_id: str) -> RedemptionCode | None:
        async with self._sessions() as session:
            row = (await session.execute(select(*_COLUMNS).where(redemption_codes.c.id == code_id))).first()
        return None if row is None else _code(row)

    async def list_all(self) -> list[RedemptionCode]:
        statement = select(*_COLUMNS).order_by(redemption_codes.c.created_at.desc(), redemption_codes.c.id)
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
        return [_code(row) for row in rows]

    async def revoke(self, code_id: str, now: datetime) -> bool:
        statement = (
            update(redemption_codes)
            .where(redemption_codes.c.id == code_id, redemption_codes.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        async with self._sessions() as session, session.begin():
            return (await session.execute(statement)).rowcount == 1

    async def redeem(self, code_hash: str, account_id: str, now: datetime) -> RedeemOutcome:
        c = redemption_codes.c
        take = (
            update(redemption_codes)
            .where(
                c.code_hash == code_hash,
                c.revoked_at.is_(None),
                or_(c.expires_at.is_(None), c.expires_at > now),
                c.uses < c.max_uses,
            )
            .values(uses=c.uses + 1)
            .returning(*_COLUMNS)
        )
        try:
            async with self._sessions() as session, session.begin():
                row = (await session.execute(take)).first()
                if row is None:
                    return await self._refusal(session, code_hash, account_id, now)
                record = dialect_insert(session, redemptions).on_conflict_do_nothing(
                    index_elements=[redemptions.c.code_id, redemptions.c.account_id]
                )
                values = {"code_id": row.id, "account_id": account_id, "redeemed_at": now}
                if (await session.execute(record, values)).rowcount != 1:
                    raise _RedeemedBefore
                return RedeemOutcome(_code(row), None)
        except _RedeemedBefore:
            async with self._sessions() as session:
                found = (await session.execute(select(*_COLUMNS).where(c.code_hash == code_hash))).first()
            return RedeemOutcome(None if found is None else _code(found), RedeemRefusal.ALREADY_REDEEMED)

    @staticmethod
    async def _refusal(session: AsyncSession, code_hash: str, account_id: str, now: datetime) -> RedeemOutcome:
        row = (await session.execute(select(*_COLUMNS).where(redemption_codes.c.code_hash == code_hash))).first()
        if row is None:
            return RedeemOutcome(None, RedeemRefusal.UNKNOWN)
        code = _code(row)
        r = redemptions.c
        before = select(r.id).where(r.code_id == code.id, r.account_id == account_id)
        if (await session.execute(before)).first() is not None:
            return RedeemOutcome(code, RedeemRefusal.ALREADY_REDEEMED)
        return RedeemOutcome(code, code.refusal(now) or RedeemRefusal.USED_UP)
