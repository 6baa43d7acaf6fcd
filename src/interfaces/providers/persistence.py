"""The database: one engine (disposed last of what uses it), its sessions and the SQL adapters."""

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.api_keys import SqlApiKeyRepository
from infrastructure.persistence.checkouts import SqlCheckoutStore
from infrastructure.persistence.credit_history import SqlCreditHistory
from infrastructure.persistence.credit_leases import SqlCreditLeases
from infrastructure.persistence.credits import SqlCreditLedger
from infrastructure.persistence.engine import create_engine, session_factory
from infrastructure.persistence.image_store import SqlImageStore
from infrastructure.persistence.passwords import SqlPasswordStore
from infrastructure.persistence.redemption_codes import SqlRedemptionCodes
from infrastructure.persistence.usage import BufferedSqlUsageRecorder, SqlUsageQueries
from infrastructure.telemetry.backend_errors import BackendErrors
from interfaces.draining import DRAIN
from interfaces.http.readiness import Readiness
from interfaces.providers._closing import close_quietly
from interfaces.settings import Settings


class PersistenceProvider(Provider):
    scope = Scope.APP

    @provide
    async def engine(self, settings: Settings, errors: BackendErrors) -> AsyncIterator[AsyncEngine]:
        engine = create_engine(settings.database_url)
        errors.watch_engine(engine)
        yield engine
        await close_quietly(engine.dispose)

    @provide
    def sessions(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return session_factory(engine)

    accounts = provide(SqlAccountRepository)
    keys = provide(SqlApiKeyRepository)
    passwords = provide(SqlPasswordStore)
    leases = provide(SqlCreditLeases)
    checkouts = provide(SqlCheckoutStore)
    credit_history = provide(SqlCreditHistory)
    redemption_codes = provide(SqlRedemptionCodes)

    @provide
    def images(self, sessions: async_sessionmaker[AsyncSession]) -> SqlImageStore:
        return SqlImageStore(sessions)

    credit_store = provide(SqlCreditLedger)  # the durable ledger: under the leases, and the operator's CreditAdmin

    @provide
    def usage_store(self, sessions: async_sessionmaker[AsyncSession]) -> BufferedSqlUsageRecorder:
        return BufferedSqlUsageRecorder(sessions)  # started and closed by Lifecycle: closing it writes what is left

    @provide
    def usage_queries(self, sessions: async_sessionmaker[AsyncSession]) -> SqlUsageQueries:
        return SqlUsageQueries(sessions)

    @provide
    def readiness(self, engine: AsyncEngine) -> Readiness:
        async def database() -> None:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

        # The limits provider adds Redis when there is one, the upstream provider the catalogue.
        return Readiness({"database": database}, draining=DRAIN.is_draining)
