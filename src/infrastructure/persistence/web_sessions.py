from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.web_sessions import WebSession
from infrastructure.persistence.tables import web_sessions


def _session(row: Any) -> WebSession:
    return WebSession(
        id=row.id,
        account_id=row.account_id,
        csrf_token=row.csrf_token,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        user_agent=row.user_agent,
    )


class SqlSessionStore:
    """Dashboard sessions in the database (the default without Redis); expired rows are purged at sign-in."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, session: WebSession) -> None:
        values = {
            "id": session.id,
            "account_id": session.account_id,
            "csrf_token": session.csrf_token,
            "created_at": session.created_at,
            "last_seen_at": session.last_seen_at,
            "expires_at": session.expires_at,
            "user_agent": session.user_agent,
        }
        async with self._sessions() as db, db.begin():
            await db.execute(insert(web_sessions), values)

    async def get(self, session_id: str) -> WebSession | None:
        async with self._sessions() as db:
            row = (await db.execute(select(web_sessions).where(web_sessions.c.id == session_id))).first()
        return None if row is None else _session(row)

    async def touch(self, session_id: str, last_seen_at: datetime, expires_at: datetime) -> None:
        statement = (
            update(web_sessions)
            .where(web_sessions.c.id == session_id)
            .values(last_seen_at=last_seen_at, expires_at=expires_at)
        )
        async with self._sessions() as db, db.begin():
            await db.execute(statement)

    async def delete(self, session_id: str) -> None:
        async with self._sessions() as db, db.begin():
            await db.execute(delete(web_sessions).where(web_sessions.c.id == session_id))

    async def delete_for_account(self, account_id: str, keep: str | None = None) -> int:
        statement = delete(web_sessions).where(web_sessions.c.account_id == account_id)
        if keep is not None:
            statement = statement.where(web_sessions.c.id != keep)
        async with self._sessions() as db, db.begin():
            return (await db.execute(statement)).rowcount or 0

    async def purge_expired(self, now: datetime) -> int:
        async with self._sessions() as db, db.begin():
            return (await db.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))).rowcount or 0
