"""Alembic environment for Sluice.

`infrastructure.persistence.migrate.migrate()` is the usual way in: it opens the connection
itself and hands it over in `config.attributes["connection"]`. Run from the alembic command line
instead, the URL comes from `sqlalchemy.url` or SLUICE_DATABASE_URL and an async engine is made here.
"""

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from infrastructure.persistence.engine import create_engine, ensure_sqlite_directory, normalize_url
from infrastructure.persistence.tables import metadata

config = context.config


def _configure(**kwargs: object) -> None:
    context.configure(target_metadata=metadata, compare_type=True, **kwargs)


def _run_on(connection: Connection) -> None:
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("SLUICE_DATABASE_URL")
    if not url:
        raise RuntimeError("set SLUICE_DATABASE_URL (or sqlalchemy.url) to run migrations")
    return url


async def _run_online() -> None:
    ensure_sqlite_directory(normalize_url(_url()))
    engine = create_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_on)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_offline() -> None:
    url = normalize_url(_url())
    _configure(url=url, literal_binds=True, render_as_batch=url.get_backend_name() == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
elif (given := config.attributes.get("connection")) is not None:
    _run_on(given)
else:
    asyncio.run(_run_online())
