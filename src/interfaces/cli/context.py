"""What every admin command shares: a migrated database, the container, and where words go."""

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dishka import AsyncContainer

from interfaces.container import build_container
from interfaces.migrations import run_migrations
from interfaces.runtime import build_runtime
from interfaces.settings import Settings


@asynccontextmanager
async def container(settings: Settings) -> AsyncIterator[AsyncContainer]:
    if os.environ.get("SLUICE_AUTO_MIGRATE", "1") != "0":
        await run_migrations(settings.database_url)
    runtime = build_runtime(settings)
    built = build_container(runtime)
    try:
        yield built
    finally:
        await built.close()
        await runtime.close()


def say(message: str) -> None:
    """Messages for people go to stderr, so stdout stays the result alone."""
    print(message, file=sys.stderr)
