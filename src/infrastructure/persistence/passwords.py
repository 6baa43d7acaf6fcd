from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.accounts import Account
from infrastructure.persistence.accounts import account_columns, account_from_row
from infrastructure.persistence.tables import accounts


class SqlPasswordStore:
    """Reads and writes `accounts.password_hash`, which the account repository never selects."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def find(self, email: str) -> tuple[Account, str | None] | None:
        statement = select(*account_columns(), accounts.c.password_hash).where(accounts.c.email == email)
        async with self._sessions() as session:
            row = (await session.execute(statement)).first()
        return None if row is None else (account_from_row(row), row.password_hash)

    async def get(self, account_id: str) -> str | None:
        statement = select(accounts.c.password_hash).where(accounts.c.id == account_id)
        async with self._sessions() as session:
            return (await session.execute(statement)).scalar_one_or_none()

    async def set(self, account_id: str, password_hash: str) -> None:
        statement = update(accounts).where(accounts.c.id == account_id).values(password_hash=password_hash)
        async with self._sessions() as session, session.begin():
            await session.execute(statement)
