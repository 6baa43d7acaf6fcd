import pytest
from sqlalchemy import text

from infrastructure.persistence.engine import create_engine, normalize_url


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@db:5432/sluice", "postgresql+asyncpg"),
        ("postgres://u:p@db/sluice", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@db/sluice", "postgresql+asyncpg"),
        ("sqlite:///data/sluice.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:////var/lib/sluice.db", "sqlite+aiosqlite"),
    ],
)
def test_supported_urls_get_the_async_driver(given: str, driver: str) -> None:
    url = normalize_url(given)
    assert url.drivername == driver
    assert url.database == normalize_url(given).database


def test_a_libpq_sslmode_becomes_asyncpg_ssl() -> None:
    url = normalize_url("postgres://u:p@db/sluice?sslmode=require")
    assert dict(url.query) == {"ssl": "require"}


def test_passwords_survive_rewriting() -> None:
    url = normalize_url("postgres://u:p%40ss@db/sluice")
    assert url.password == "p@ss"


@pytest.mark.parametrize(
    "given",
    ["mysql://u@db/sluice", "postgresql+psycopg://u@db/x", "not a url", "sqlite://", "sqlite:///:memory:"],
)
def test_unsupported_urls_name_the_setting(given: str) -> None:
    with pytest.raises(ValueError, match="SLUICE_DATABASE_URL"):
        normalize_url(given)


async def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()
