"""The Redis adapters against a server of the test's own: a password, database 3, error replies,
restarts and a stalled server. None of this can be played on the machine's shared Redis."""

import asyncio
import secrets
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.spend_cache import CachedSpendCounter
from domain.rate_policy import LimitCheck
from infrastructure.clock import SystemClock
from infrastructure.limits.redis import _GCRA_LUA, PipelinedRedisRateLimiter, RedisSpendCounter, redis_client
from infrastructure.limits.resp import RespPipeline
from tests.redis_process import RedisProcess, redis_process

PASSWORD = "s3cret-" + secrets.token_hex(4)
# What the HTTP layer answers with 503 backend_unavailable (interfaces/http/presenter.py).
BACKEND_UNAVAILABLE = (RedisError, ConnectionError, TimeoutError, OSError)


@pytest.fixture
def server() -> Iterator[RedisProcess]:
    with redis_process(password=PASSWORD) as process:
        yield process


async def _keys(server: RedisProcess, db: int) -> list[bytes]:
    client = Redis.from_url(server.url(db))
    try:
        return sorted(await client.keys("*"))
    finally:
        await client.aclose()


async def test_first_concurrent_decisions_run_authenticated_on_the_urls_database(server: RedisProcess) -> None:
    pipeline = RespPipeline(server.url(3), timeout=10)
    limiter = PipelinedRedisRateLimiter(pipeline, prefix="t:")
    check = LimitCheck("shared", 50, 3600.0)
    admin = Redis.from_url(server.url(0))
    await admin.script_load(_GCRA_LUA)  # as a gateway restarting on a Redis that knows it (no NOSCRIPT detour)
    await admin.aclose()
    try:
        # Hold the connection's setup in flight: the kernel accepts the connection of a stopped
        # server, but AUTH and SELECT go unanswered until it resumes.
        server.pause()
        try:
            first = asyncio.ensure_future(limiter.acquire([check]))
            await asyncio.sleep(0.2)
            rest = [asyncio.ensure_future(limiter.acquire([check])) for _ in range(89)]
            await asyncio.sleep(0.05)
        finally:
            server.resume()
        results = await asyncio.gather(first, *rest)
    finally:
        await pipeline.aclose()
    assert sum(decisions[0].allowed for decisions in results) == 50
    assert await _keys(server, 3) == [b"t:shared"]
    assert await _keys(server, 0) == []


async def test_a_wrong_password_is_a_backend_error(server: RedisProcess) -> None:
    pipeline = RespPipeline(server.url(3, password="wrong"))
    try:
        with pytest.raises(RedisError, match=r"WRONGPASS|invalid password"):
            await PipelinedRedisRateLimiter(pipeline).acquire([LimitCheck("k", 5, 60.0)])
        with pytest.raises(RedisError):  # and again: a failed setup is never published as a connection
            await pipeline.call("PING")
    finally:
        await pipeline.aclose()


async def test_no_password_is_a_backend_error(server: RedisProcess) -> None:
    pipeline = RespPipeline(f"redis://127.0.0.1:{server.port}/0")
    try:
        with pytest.raises(RedisError, match="NOAUTH"):
            await PipelinedRedisRateLimiter(pipeline).acquire([LimitCheck("k", 5, 60.0)])
    finally:
        await pipeline.aclose()


async def test_out_of_memory_is_a_backend_error_and_noscript_still_loads(server: RedisProcess) -> None:
    pipeline = RespPipeline(server.url(3))
    limiter = PipelinedRedisRateLimiter(pipeline)
    admin = Redis.from_url(server.url(0))
    try:
        # NOSCRIPT on a fresh server falls back to EVAL, which loads the script for the next calls.
        assert (await limiter.acquire([LimitCheck("k", 5, 60.0)]))[0].allowed
        assert (await limiter.acquire([LimitCheck("k", 5, 60.0)]))[0].remaining == 3
        await admin.config_set("maxmemory-policy", "noeviction")
        await admin.config_set("maxmemory", 1)
        with pytest.raises(RedisError, match="OOM"):
            await limiter.acquire([LimitCheck("k", 5, 60.0)])
        client = redis_client(server.url(3))
        try:
            with pytest.raises(RedisError, match="maxmemory"):  # redis-py's OutOfMemoryError
                await RedisSpendCounter(client).add("spend:a", 5, 60)
        finally:
            await client.aclose()
    finally:
        await admin.config_set("maxmemory", 0)
        await admin.aclose()
        await pipeline.aclose()


async def test_the_limiter_fails_while_redis_is_down_and_is_exact_after_a_restart(server: RedisProcess) -> None:
    pipeline = RespPipeline(server.url(3))
    limiter = PipelinedRedisRateLimiter(pipeline)
    check = LimitCheck("k", 10, 3600.0)
    try:
        assert all(d[0].allowed for d in await asyncio.gather(*(limiter.acquire([check]) for _ in range(4))))
        await asyncio.to_thread(server.stop)
        for _ in range(3):
            with pytest.raises(BACKEND_UNAVAILABLE):
                await limiter.acquire([check])
        await asyncio.to_thread(server.start)  # same port, empty: the full limit is there again
        results = await asyncio.gather(*(limiter.acquire([check]) for _ in range(15)))
        assert sum(d[0].allowed for d in results) == 10
        assert await _keys(server, 3) == [b"sluice:k"]
    finally:
        await pipeline.aclose()


async def test_spend_additions_for_every_key_survive_a_failed_flush(server: RedisProcess) -> None:
    client = redis_client(server.url(3), socket_timeout=0.5)
    spend = CachedSpendCounter(RedisSpendCounter(client, prefix="t:"), SystemClock())
    try:
        for key, micros in (("a", 22), ("b", 27), ("c", 33)):
            await spend.add(key, micros, 3600)
        await asyncio.to_thread(server.stop)
        await spend.flush()  # fails: kept
        with pytest.raises(BACKEND_UNAVAILABLE):
            await spend.spent("a")
        await asyncio.to_thread(server.start)
        await spend.add("a", 1, 3600)
        await spend.flush()
        inner = RedisSpendCounter(client, prefix="t:")
        assert [await inner.spent(k) for k in "abc"] == [23, 27, 33]
    finally:
        await client.aclose()


async def test_a_flush_that_timed_out_on_a_stalled_redis_counts_once(server: RedisProcess) -> None:
    client = redis_client(server.url(3), socket_timeout=0.5)
    spend = CachedSpendCounter(RedisSpendCounter(client, prefix="t:"), SystemClock())
    inner = RedisSpendCounter(client, prefix="t:")
    try:
        await spend.add("a", 100, 3600)
        await spend.flush()  # loads the script: the stalled call below is one EVALSHA that can run
        for key, micros in (("a", 22), ("b", 27), ("c", 33)):
            await spend.add(key, micros, 3600)
        server.pause()
        try:
            await spend.flush()  # the batch reaches the stalled server; its reply never comes in time
        finally:
            server.resume()
        # The stalled server runs what it had read, so the batch is applied before the resend.
        assert await _spent_eventually(inner, "b", 27)
        await spend.flush()  # the very same batch again: a no-op
        await spend.flush()
        assert [await inner.spent(k) for k in "abc"] == [122, 27, 33]
        assert spend.unsent == 0
    finally:
        await client.aclose()


async def _spent_eventually(counter: RedisSpendCounter, key: str, expected: int) -> bool:
    for _ in range(200):
        if await counter.spent(key) == expected:
            return True
        await asyncio.sleep(0.01)
    return False
