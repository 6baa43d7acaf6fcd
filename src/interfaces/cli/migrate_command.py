"""`sluice migrate`: the one admin command that opens no container."""

import argparse

from interfaces.cli.context import say
from interfaces.migrations import run_migrations
from interfaces.settings import Settings


async def migrate(settings: Settings, _: argparse.Namespace) -> int:
    await run_migrations(settings.database_url)
    say("database is up to date")
    return 0
