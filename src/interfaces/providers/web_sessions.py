"""Dashboard sessions: in Redis when SLUICE_REDIS_URL is set (the client is the limits provider's),
else in the database. Both provide the `SessionStore` port."""

from dishka import Provider, Scope, provide
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.ports.web_sessions import SessionStore
from infrastructure.persistence.web_sessions import SqlSessionStore
from infrastructure.sessions.redis import RedisSessionStore
from interfaces.settings import Settings


class RedisSessionsProvider(Provider):
    scope = Scope.APP

    @provide
    def sessions(self, client: Redis) -> SessionStore:
        return RedisSessionStore(client)


class SqlSessionsProvider(Provider):
    scope = Scope.APP

    @provide
    def sessions(self, db: async_sessionmaker[AsyncSession]) -> SessionStore:
        return SqlSessionStore(db)


def web_sessions_provider(settings: Settings) -> Provider:
    return RedisSessionsProvider() if settings.redis_url else SqlSessionsProvider()
