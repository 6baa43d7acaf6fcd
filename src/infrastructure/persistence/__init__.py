"""Persistence adapters on SQLAlchemy (Postgres via asyncpg, SQLite via aiosqlite), with Alembic migrations."""

from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.api_keys import SqlApiKeyRepository
from infrastructure.persistence.credits import SqlCreditLedger
from infrastructure.persistence.engine import create_engine, normalize_url, session_factory
from infrastructure.persistence.migrate import migrate
from infrastructure.persistence.usage import BufferedSqlUsageRecorder, SqlUsageQueries

__all__ = [
    "BufferedSqlUsageRecorder",
    "SqlAccountRepository",
    "SqlApiKeyRepository",
    "SqlCreditLedger",
    "SqlUsageQueries",
    "create_engine",
    "migrate",
    "normalize_url",
    "session_factory",
]
