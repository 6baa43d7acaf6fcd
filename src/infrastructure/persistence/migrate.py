"""Brings a database to the newest schema, from code: no alembic.ini has to exist on disk."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from infrastructure.persistence.engine import create_engine, ensure_sqlite_directory, normalize_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Replicas that start together all call migrate(); on Postgres they take turns on this lock, so
# the second finds the schema at head instead of racing to create the same tables.
_POSTGRES_LOCK_ID = 0x511CE  # any fixed number will do; this one reads "sluice"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


async def migrate(url: str) -> None:
    """Runs `alembic upgrade head`; at head already, it changes nothing."""
    parsed = normalize_url(url)
    ensure_sqlite_directory(parsed)
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _POSTGRES_LOCK_ID})
            await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()
