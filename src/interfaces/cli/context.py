"""What every admin command shares: a migrated database, the container, and where words go."""

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dishka import AsyncContainer

from interfaces.lifecycle import Lifecycle
from interfaces.migrations import run_migrations
from interfaces.providers import make_container
from interfaces.settings import Settings


@asynccontextmanager
async def container(settings: Settings) -> AsyncIterator[AsyncContainer]:
    if os.environ.get("SLUICE_AUTO_MIGRATE", "1") != "0":
        await run_migrations(settings.database_url)
    built = make_container(settings)
    try:
        # Not started (a command needs no housekeeping), but resolved: closing the container then
        # drains what the command left (a credit lease, spend, usage records) before the adapters close.
        await built.get(Lifecycle)
        yield built
    finally:
        await built.close()


def say(message: str) -> None:
    """Messages for people go to stderr, so stdout stays the result alone."""
    print(message, file=sys.stderr)
