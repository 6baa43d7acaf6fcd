"""Rate limits and spend counters in Redis, shared by every gateway process.

A rate decision is one EVALSHA of `gcra.lua` (loaded once; redis-py reloads it on NOSCRIPT): the
script reads every TAT, takes Redis TIME as now, and commits the new TATs only when every check
is allowed. On Redis Cluster all keys of one call must hash to the same slot.
"""

import hashlib
from collections.abc import Sequence
from importlib.resources import files

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from domain.rate_policy import TICKS_PER_SECOND, Decision, LimitCheck, to_ticks
from infrastructure.limits.resp import RespError, RespPipeline

_GCRA_LUA = files(__package__).joinpath("gcra.lua").read_text(encoding="utf-8")


def redis_client(
    url: str,
    *,
    max_connections: int = 64,
    socket_timeout: float = 1.0,
    health_check_interval: int = 30,
) -> Redis:
    """A client that fails fast when Redis is gone, instead of stalling every request.

    Connect and read time out after `socket_timeout`; a connection error (typically a pooled
    connection the server closed) is retried once at once, a timeout never (the command may
    have run). A request waits at most `socket_timeout` for a free connection of the pool.
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=socket_timeout,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        health_check_interval=health_check_interval,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
        decode_responses=False,
    )
    return Redis.from_pool(pool)


def _decisions(checks: Sequence[LimitCheck], replies: list[list[int]]) -> list[Decision]:
    return [
        Decision(
            allowed=bool(allowed),
            limit=check.limit,
            remaining=int(remaining),
            reset_after=int(reset_after) / TICKS_PER_SECOND,
            retry_after=int(retry_after) / TICKS_PER_SECOND,
        )
        for check, (allowed, remaining, reset_after, retry_after) in zip(checks, replies, strict=True)
    ]


def _script_args(prefix: str, checks: Sequence[LimitCheck]) -> tuple[list[str], list[int]]:
    keys = [prefix + c.key for c in checks]
    args: list[int] = []
    for c in checks:
        args += (c.limit, to_ticks(c.window), c.cost)
    return keys, args


class PipelinedRedisRateLimiter:
    """The same decision as RedisRateLimiter, over one pipelined connection (the serving default)."""

    def __init__(self, pipeline: RespPipeline, prefix: str = "sluice:") -> None:
        self._pipeline = pipeline
        self._prefix = prefix
        self._sha = hashlib.sha1(_GCRA_LUA.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1

    async def acquire(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        if not checks:
            return []
        keys, args = _script_args(self._prefix, checks)
        try:
            replies = await self._pipeline.call("EVALSHA", self._sha, len(keys), *keys, *args)
        except RespError as error:
            if not str(error).startswith("NOSCRIPT"):
                raise
            # First use on this server (or after SCRIPT FLUSH): EVAL loads it for the next calls.
            replies = await self._pipeline.call("EVAL", _GCRA_LUA, len(keys), *keys, *args)
        return _decisions(checks, replies)


class RedisRateLimiter:
    def __init__(self, client: Redis, prefix: str = "sluice:") -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_GCRA_LUA)

    async def acquire(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        if not checks:
            return []
        keys, args = _script_args(self._prefix, checks)
        return _decisions(checks, await self._script(keys=keys, args=args))


class RedisSpendCounter:
    def __init__(self, client: Redis, prefix: str = "sluice:") -> None:
        self._client = client
        self._prefix = prefix

    async def spent(self, key: str) -> int | None:
        value = await self._client.get(self._prefix + key)
        return None if value is None else int(value)

    async def seed(self, key: str, micros: int, ttl_seconds: int) -> None:
        await self._client.set(self._prefix + key, micros, ex=ttl_seconds, nx=True)

    async def add(self, key: str, micros: int, ttl_seconds: int) -> None:
        full_key = self._prefix + key
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.incrby(full_key, micros)
            pipe.expire(full_key, ttl_seconds)
            await pipe.execute()
