"""Failures to reach Redis or the database, counted where they happen (a request's or background work's).

The adapters' hooks only add to a count here; the metrics read it with the other process gauges.
That keeps the engine and the Redis clients free of the metrics (which are built after them, and
read the usage buffer that needs the engine).
"""

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine


class BackendErrors:
    def __init__(self) -> None:
        self.redis = 0
        self.database = 0

    def redis_failed(self) -> None:
        self.redis += 1

    def watch_engine(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "handle_error", self._database_failed)

    def _database_failed(self, context: ExceptionContext) -> None:
        # A unique-key clash is how idempotent writes learn they already happened: not a failure.
        if isinstance(context.sqlalchemy_exception, IntegrityError):
            return
        self.database += 1
