"""Rate limits and spend counters: in Redis, shared by every process, or in this process alone.

`limits_provider(settings)` picks one of the two by `SLUICE_REDIS_URL`; both provide the
`RateLimiter` and `SpendStore` ports.
"""

from collections.abc import AsyncIterator

from dishka import Provider, Scope, decorate, provide
from redis.asyncio import Redis

from application.ports.rate_limiter import RateLimiter, SpendStore
from infrastructure.limits.memory import InProcessRateLimiter, InProcessSpendCounter
from infrastructure.limits.redis import PipelinedRedisRateLimiter, RedisRateLimiter, RedisSpendCounter, redis_client
from infrastructure.limits.resp import RespPipeline
from infrastructure.limits.traced_redis import TracedRespPipeline
from infrastructure.telemetry import tracing
from infrastructure.telemetry.backend_errors import BackendErrors
from interfaces.http.readiness import Readiness
from interfaces.providers._closing import close_quietly
from interfaces.settings import Settings


class RedisLimitsProvider(Provider):
    scope = Scope.APP

    @provide
    async def client(self, settings: Settings, errors: BackendErrors) -> AsyncIterator[Redis]:
        assert settings.redis_url is not None
        tracer = tracing.child_tracer() if tracing.enabled() else None
        client = redis_client(settings.redis_url, on_error=errors.redis_failed, tracer=tracer)
        yield client
        await close_quietly(client.aclose)

    @provide
    async def limiter(self, settings: Settings, client: Redis, errors: BackendErrors) -> AsyncIterator[RateLimiter]:
        assert settings.redis_url is not None
        if not settings.redis_url.startswith("redis://"):
            yield RedisRateLimiter(client)  # rediss:// and unix:// stay on redis-py
            return
        # One pipelined socket for the per-request decision (docs/architecture.md has the figures).
        pipeline = (
            TracedRespPipeline(settings.redis_url, tracing.child_tracer(), on_error=errors.redis_failed)
            if tracing.enabled()
            else RespPipeline(settings.redis_url, on_error=errors.redis_failed)
        )
        yield PipelinedRedisRateLimiter(pipeline)
        await close_quietly(pipeline.aclose)

    @provide
    def spend_store(self, client: Redis) -> SpendStore:
        return RedisSpendCounter(client)

    @decorate
    def readiness(self, readiness: Readiness, client: Redis) -> Readiness:
        return readiness.with_probe("redis", client.ping)


class InProcessLimitsProvider(Provider):
    scope = Scope.APP

    @provide
    def limiter(self) -> RateLimiter:
        return InProcessRateLimiter()

    @provide
    def spend_store(self) -> SpendStore:
        return InProcessSpendCounter()


def limits_provider(settings: Settings) -> Provider:
    return RedisLimitsProvider() if settings.redis_url else InProcessLimitsProvider()
