"""Rate limits and spend counters in Redis, shared by every gateway process.

A rate decision is one EVALSHA of `gcra.lua` (loaded once; redis-py reloads it on NOSCRIPT): the
script reads every TAT, takes Redis TIME as now, and commits the new TATs only when every check
is allowed. A peek (the dashboard's read of a bucket) is one EVALSHA of `gcra_peek.lua`, which only
reads the TATs and TIME; `domain.rate_policy.peek` does the arithmetic. A spend batch is one
EVALSHA of `spend_batch.lua`, applied at most once per batch id. On Redis Cluster all keys of one
call must hash to the same slot.
"""

import hashlib
import secrets
from collections.abc import Callable, Sequence
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError

from application.ports.rate_limiter import SPEND_BATCH_ID_SECONDS, SpendBatch
from domain.rate_policy import TICKS_PER_SECOND, Decision, LimitCheck, peek, to_ticks
from infrastructure.limits.resp import RespError, RespPipeline

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

_GCRA_LUA = files(__package__).joinpath("gcra.lua").read_text(encoding="utf-8")
_PEEK_LUA = files(__package__).joinpath("gcra_peek.lua").read_text(encoding="utf-8")
_SPEND_BATCH_LUA = files(__package__).joinpath("spend_batch.lua").read_text(encoding="utf-8")


class ObservedRedis(Redis):
    """redis-py's client, telling `on_error` of every command that could not reach Redis."""

    on_error: Callable[[], None] | None = None

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return await super().execute_command(*args, **options)
        except NoScriptError:
            raise  # the script is loaded and run again: nothing failed
        except (RedisError, OSError, TimeoutError):
            if self.on_error is not None:
                self.on_error()
            raise


def redis_client(
    url: str,
    *,
    max_connections: int = 64,
    socket_timeout: float = 1.0,
    health_check_interval: int = 30,
    on_error: Callable[[], None] | None = None,
    tracer: "Tracer | None" = None,
) -> Redis:
    """A client that fails fast when Redis is gone, instead of stalling every request.

    Connect and read time out after `socket_timeout`; a connection error (typically a pooled
    connection the server closed) is retried once at once, a timeout never (the command may
    have run). A request waits at most `socket_timeout` for a free connection of the pool.
    With a `tracer` (tracing is on) every command and pipeline is a span.
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
    if tracer is None:
        client = ObservedRedis.from_pool(pool)
    else:
        from infrastructure.limits.traced_redis import TracedRedis, spans_of  # it builds on ObservedRedis

        client = TracedRedis.from_pool(pool)
        client.spans = spans_of(client, tracer)
    client.on_error = on_error
    return client


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


def _peeked(checks: Sequence[LimitCheck], reply: list[int | bytes | None]) -> list[Decision]:
    now = int(reply[0]) / TICKS_PER_SECOND
    return [
        peek(None if tat is None else int(tat) / TICKS_PER_SECOND, now, c.limit, c.window, c.cost)
        for c, tat in zip(checks, reply[1:], strict=True)
    ]


class PipelinedRedisRateLimiter:
    """The same decision as RedisRateLimiter, over one pipelined connection (the serving default)."""

    def __init__(self, pipeline: RespPipeline, prefix: str = "sluice:") -> None:
        self._pipeline = pipeline
        self._prefix = prefix
        self._sha = _sha(_GCRA_LUA)
        self._peek_sha = _sha(_PEEK_LUA)

    async def acquire(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        if not checks:
            return []
        keys, args = _script_args(self._prefix, checks)
        return _decisions(checks, await self._run(_GCRA_LUA, self._sha, keys, args))

    async def peek(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        if not checks:
            return []
        keys = [self._prefix + c.key for c in checks]
        return _peeked(checks, await self._run(_PEEK_LUA, self._peek_sha, keys, []))

    async def _run(self, script: str, sha: str, keys: list[str], args: list[int]) -> Any:
        try:
            return await self._pipeline.call("EVALSHA", sha, len(keys), *keys, *args)
        except RespError as error:
            if not str(error).startswith("NOSCRIPT"):
                raise
            # First use on this server (or after SCRIPT FLUSH): EVAL loads it for the next calls.
            return await self._pipeline.call("EVAL", script, len(keys), *keys, *args)


def _sha(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1


class RedisRateLimiter:
    def __init__(self, client: Redis, prefix: str = "sluice:") -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_GCRA_LUA)
        self._peek_script = client.register_script(_PEEK_LUA)

    async def acquire(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        if not checks:
            return []
        keys, args = _script_args(self._prefix, checks)
        return _decisions(checks, await self._script(keys=keys, args=args))

    async def peek(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        if not checks:
            return []
        return _peeked(checks, await self._peek_script(keys=[self._prefix + c.key for c in checks]))


class RedisSpendCounter:
    def __init__(self, client: Redis, prefix: str = "sluice:") -> None:
        self._client = client
        self._prefix = prefix
        self._batch_script = client.register_script(_SPEND_BATCH_LUA)

    async def spent(self, key: str) -> int | None:
        value = await self._client.get(self._prefix + key)
        return None if value is None else int(value)

    async def seed(self, key: str, micros: int, ttl_seconds: int) -> None:
        await self._client.set(self._prefix + key, micros, ex=ttl_seconds, nx=True)

    async def add(self, key: str, micros: int, ttl_seconds: int) -> None:
        await self.add_batch(SpendBatch(secrets.token_hex(16), {key: (micros, ttl_seconds)}))

    async def add_batch(self, batch: SpendBatch) -> None:
        if not batch.additions:
            return
        keys = [f"{self._prefix}spend-batch:{batch.batch_id}"]
        args: list[int] = [SPEND_BATCH_ID_SECONDS]
        for key, (micros, ttl_seconds) in batch.additions.items():
            keys.append(self._prefix + key)
            args += (micros, ttl_seconds)
        await self._batch_script(keys=keys, args=args)
