"""Engines and sessions for the two supported databases: Postgres (asyncpg) and SQLite (aiosqlite)."""

from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from infrastructure.telemetry import tracing

POSTGRES_DRIVER = "postgresql+asyncpg"
SQLITE_DRIVER = "sqlite+aiosqlite"

_ALIASES = {
    "postgresql": POSTGRES_DRIVER,
    "postgres": POSTGRES_DRIVER,
    POSTGRES_DRIVER: POSTGRES_DRIVER,
    "sqlite": SQLITE_DRIVER,
    SQLITE_DRIVER: SQLITE_DRIVER,
}
_HINT = "use postgresql://user:pass@host/db or sqlite:///path/to/sluice.db"


def normalize_url(raw: str) -> URL:
    """Parses SLUICE_DATABASE_URL and picks the async driver; ValueError for anything unsupported."""
    try:
        url = make_url(raw.strip())
    except ArgumentError as exc:
        raise ValueError(f"SLUICE_DATABASE_URL is not a database URL ({_HINT})") from exc
    driver = _ALIASES.get(url.drivername)
    if driver is None:
        raise ValueError(f"SLUICE_DATABASE_URL: unsupported scheme {url.drivername!r} ({_HINT})")
    url = url.set(drivername=driver)
    if driver == SQLITE_DRIVER and url.database in (None, "", ":memory:"):
        # Every pooled connection would get its own empty in-memory database.
        raise ValueError(f"SLUICE_DATABASE_URL: SQLite needs a file path ({_HINT})")
    if driver == POSTGRES_DRIVER and "sslmode" in url.query:
        # libpq spells it sslmode (as in most hosted Postgres URLs); asyncpg takes the same values as ssl.
        query = dict(url.query)
        query["ssl"] = query.pop("sslmode")
        url = url.set(query=query)
    return url


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def ensure_sqlite_directory(url: URL) -> None:
    """SQLite creates the file but not its directory (e.g. a fresh volume mounted at /data)."""
    if is_sqlite(url) and url.database:
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while one writer writes; busy_timeout makes a second writer wait
    # for the lock instead of failing at once; SQLite leaves foreign keys off unless asked.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """With tracing on (`infrastructure.telemetry.tracing`), every statement of the engine is a span."""
    parsed = normalize_url(url)
    if is_sqlite(parsed):
        engine = create_async_engine(parsed)
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        return _traced(engine)
    engine = create_async_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No ping per checkout: it costs a round trip on every request. A connection that died
        # fails one statement and is then invalidated and replaced by the pool.
        pool_pre_ping=False,
        connect_args={"server_settings": {"application_name": "sluice"}},
    )
    return _traced(engine)


def _traced(engine: AsyncEngine) -> AsyncEngine:
    if tracing.enabled():
        tracing.trace_engine(engine.sync_engine)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def dialect_insert(session: AsyncSession, table: Table) -> Any:
    """An INSERT that supports ON CONFLICT for the session's database (both spell it alike)."""
    if session.bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
