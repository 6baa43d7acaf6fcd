"""The CLI's door to the schema migrations (the CLI itself may not import adapters)."""

from infrastructure.persistence.migrate import migrate


async def run_migrations(database_url: str) -> None:
    await migrate(database_url)
