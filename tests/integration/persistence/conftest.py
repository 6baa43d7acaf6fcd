"""A migrated database per test, on SQLite and on Postgres (via the `database_url` fixture)."""

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.accounts import Account, new_account
from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.engine import create_engine, session_factory
from infrastructure.persistence.migrate import migrate

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def accounts(sessions: async_sessionmaker[AsyncSession]) -> SqlAccountRepository:
    return SqlAccountRepository(sessions)


async def add_account(accounts: SqlAccountRepository, email: str | None = None) -> Account:
    account = new_account(email or f"{secrets.token_hex(4)}@example.com", "default", NOW)
    await accounts.add(account)
    return account


@pytest.fixture
async def account(accounts: SqlAccountRepository) -> Account:
    return await add_account(accounts, "owner@example.com")
