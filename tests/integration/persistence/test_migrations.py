from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from infrastructure.persistence.engine import create_engine
from infrastructure.persistence.migrate import alembic_config, migrate
from infrastructure.persistence.tables import metadata

TABLES = {
    "accounts",
    "api_keys",
    "credit_entries",
    "credit_leases",
    "images",
    "usage_records",
    "usage_totals",
    "web_sessions",
    "alembic_version",
}


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def _state(url: str) -> tuple[set[str], str, list]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def read(sync: Connection) -> tuple[set[str], list]:
                context = MigrationContext.configure(sync, opts={"compare_type": True, "compare_server_default": True})
                return set(inspect(sync).get_table_names()), compare_metadata(context, metadata)

            tables, diff = await conn.run_sync(read)
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    finally:
        await engine.dispose()
    return tables, version, diff


async def test_upgrade_head_builds_the_declared_schema(database_url: str) -> None:
    await migrate(database_url)
    tables, version, diff = await _state(database_url)
    assert tables == TABLES
    assert version == _head()
    # The hand-written migration and tables.py describe the same schema, on this engine.
    assert diff == []


async def test_a_second_upgrade_changes_nothing(database_url: str) -> None:
    await migrate(database_url)
    await migrate(database_url)
    tables, version, diff = await _state(database_url)
    assert tables == TABLES
    assert version == _head()
    assert diff == []


async def test_sqlite_database_directory_is_created(tmp_path: Path) -> None:
    target = tmp_path / "fresh" / "volume" / "sluice.db"
    await migrate(f"sqlite:///{target}")
    assert target.exists()


async def test_images_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    from alembic import command

    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0002"))
        async with engine.connect() as conn:
            assert "images" not in await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    await migrate(database_url)
    tables, version, diff = await _state(database_url)
    assert tables == TABLES and version == _head() and diff == []
