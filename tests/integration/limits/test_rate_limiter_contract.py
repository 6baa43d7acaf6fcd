"""One contract for every RateLimiter adapter: in-process (on a fake clock) and Redis (on Redis TIME).

Against Redis time really passes between calls, so durations are compared with a tolerance and
refills are waited for with short windows. Each test uses keys of its own.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from importlib.resources import files

import pytest
import redis as sync_redis
from hypothesis import given, settings
from hypothesis import strategies as st

from application.ports.rate_limiter import RateLimiter
from domain.rate_policy import TICKS_PER_SECOND, LimitCheck, decide_all, to_ticks
from infrastructure.limits.memory import InProcessRateLimiter
from infrastructure.limits.redis import PipelinedRedisRateLimiter, RedisRateLimiter, redis_client
from infrastructure.limits.resp import RespPipeline


class ManualClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Subject:
    limiter: RateLimiter
    advance: Callable[[float], Awaitable[None]]
    tolerance: float  # how far durations may drift while a test runs


async def _delete_prefixed(client, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=prefix + "*", count=1000)]
    if keys:
        await client.delete(*keys)


@pytest.fixture
def prefix() -> str:
    return f"sluice:test:{secrets.token_hex(6)}:"


@pytest.fixture
async def redis(redis_url: str, prefix: str):
    client = redis_client(redis_url)
    try:
        yield client
    finally:
        await _delete_prefixed(client, prefix)
        await client.aclose()


@pytest.fixture(params=["in-process", "redis", "redis-pipelined"])
async def subject(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[Subject]:
    if request.param == "in-process":
        clock = ManualClock()

        async def advance(seconds: float) -> None:
            clock.now += seconds

        yield Subject(InProcessRateLimiter(clock), advance, 0.0)
        return
    url = request.getfixturevalue("redis_url")
    client = redis_client(url)
    pipeline = RespPipeline(url)
    limiter = (
        RedisRateLimiter(client, prefix=prefix)
        if request.param == "redis"
        else PipelinedRedisRateLimiter(pipeline, prefix=prefix)
    )
    try:
        yield Subject(limiter, asyncio.sleep, 0.1)
    finally:
        await _delete_prefixed(client, prefix)
        await client.aclose()
        await pipeline.aclose()


def approx(value: float, subject: Subject):
    return pytest.approx(value, abs=subject.tolerance + 1e-5)


async def test_a_burst_of_limit_then_a_denial(subject: Subject) -> None:
    check = LimitCheck("burst", limit=5, window=60)
    decisions = [(await subject.limiter.acquire([check]))[0] for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    denied = decisions[-1]
    assert denied.retry_after == approx(12.0, subject)  # one interval: 60 s / 5
    assert denied.reset_after == approx(60.0, subject)


async def test_decisions_carry_the_header_values(subject: Subject) -> None:
    check = LimitCheck("headers", limit=10, window=100)
    first = (await subject.limiter.acquire([check]))[0]
    assert (first.allowed, first.limit, first.remaining, first.retry_after) == (True, 10, 9, 0.0)
    assert first.reset_after == approx(10.0, subject)
    for _ in range(3):
        last = (await subject.limiter.acquire([check]))[0]
    assert (last.limit, last.remaining) == (10, 6)
    assert last.reset_after == approx(40.0, subject)


async def test_checks_are_all_or_nothing_across_keys(subject: Subject) -> None:
    roomy, tight = LimitCheck("roomy", limit=10, window=60), LimitCheck("tight", limit=1, window=60)
    assert [d.allowed for d in await subject.limiter.acquire([roomy, tight])] == [True, True]
    for order in ([roomy, tight], [tight, roomy]):
        decisions = await subject.limiter.acquire(order)
        assert not all(d.allowed for d in decisions)
        assert next(d for d, c in zip(decisions, order, strict=True) if c is tight).retry_after > 50
    # The two denied calls consumed nothing of the roomy policy: 10 - 1 (first call) - 1 (this one).
    alone = (await subject.limiter.acquire([roomy]))[0]
    assert alone.allowed
    assert alone.remaining == 8


async def test_keys_are_independent(subject: Subject) -> None:
    a, b = LimitCheck("a", limit=1, window=60), LimitCheck("b", limit=1, window=60)
    assert (await subject.limiter.acquire([a]))[0].allowed
    assert not (await subject.limiter.acquire([a]))[0].allowed
    assert (await subject.limiter.acquire([b]))[0].allowed


async def test_the_window_refills_one_interval_at_a_time(subject: Subject) -> None:
    check = LimitCheck("refill", limit=2, window=0.6)  # one request back every 0.3 s
    assert [(await subject.limiter.acquire([check]))[0].allowed for _ in range(3)] == [True, True, False]
    await subject.advance(0.35)
    assert [(await subject.limiter.acquire([check]))[0].allowed for _ in range(2)] == [True, False]
    await subject.advance(0.65)
    decisions = [(await subject.limiter.acquire([check]))[0] for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert [d.remaining for d in decisions] == [1, 0, 0]


async def test_a_request_may_cost_more_than_one(subject: Subject) -> None:
    check = LimitCheck("cost", limit=10, window=100, cost=4)
    first, second, third = [(await subject.limiter.acquire([check]))[0] for _ in range(3)]
    assert (first.allowed, first.remaining) == (True, 6)
    assert (second.allowed, second.remaining) == (True, 2)
    assert (third.allowed, third.remaining) == (False, 2)
    assert third.retry_after == approx(20.0, subject)  # two more intervals of 10 s
    small = (await subject.limiter.acquire([LimitCheck("cost", limit=10, window=100, cost=2)]))[0]
    assert (small.allowed, small.remaining) == (True, 0)
    too_big = (await subject.limiter.acquire([LimitCheck("other", limit=3, window=10, cost=4)]))[0]
    assert not too_big.allowed


async def test_no_checks_no_decisions(subject: Subject) -> None:
    assert await subject.limiter.acquire([]) == []


# ---------------------------------------------------------------------- peek: read, never spend


async def test_peek_at_a_fresh_key_shows_the_whole_burst(subject: Subject) -> None:
    seen = await subject.limiter.peek([LimitCheck("fresh", limit=4, window=600)])
    assert [(s.allowed, s.limit, s.remaining, s.reset_after, s.retry_after) for s in seen] == [(True, 4, 4, 0.0, 0.0)]


async def test_peek_spends_nothing_and_agrees_with_the_next_decision(subject: Subject) -> None:
    check = LimitCheck("peeked", limit=5, window=600)  # one request back every 120 s: none while the test runs
    for _ in range(2):
        await subject.limiter.acquire([check])
    peeks = [(await subject.limiter.peek([check]))[0] for _ in range(10)]
    assert {p.remaining for p in peeks} == {3}
    assert peeks[0].allowed and peeks[0].reset_after == approx(240.0, subject)
    decisions = [(await subject.limiter.acquire([check]))[0] for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]  # the ten peeks took nothing
    exhausted = (await subject.limiter.peek([check]))[0]
    assert (exhausted.allowed, exhausted.remaining) == (False, 0)
    assert exhausted.retry_after == approx(decisions[-1].retry_after, subject)
    assert exhausted.retry_after == approx(120.0, subject)
    assert exhausted.reset_after == approx(600.0, subject)


async def test_peek_reads_many_keys_in_one_call(subject: Subject) -> None:
    used, fresh = LimitCheck("used", limit=3, window=300), LimitCheck("unused", limit=7, window=300)
    await subject.limiter.acquire([used])
    assert [s.remaining for s in await subject.limiter.peek([used, fresh])] == [2, 7]
    assert await subject.limiter.peek([]) == []


async def test_peek_sees_the_refill(subject: Subject) -> None:
    check = LimitCheck("refilling", limit=2, window=0.6)
    await subject.limiter.acquire([check])
    await subject.limiter.acquire([check])
    assert (await subject.limiter.peek([check]))[0].remaining == 0
    await subject.advance(0.35)
    assert (await subject.limiter.peek([check]))[0].remaining == 1
    await subject.advance(0.35)
    assert (await subject.limiter.peek([check]))[0].remaining == 2


async def test_redis_peek_loads_its_script_after_a_flush(redis, redis_url: str, prefix: str) -> None:
    pipeline = RespPipeline(redis_url)
    try:
        for limiter in (RedisRateLimiter(redis, prefix=prefix), PipelinedRedisRateLimiter(pipeline, prefix=prefix)):
            check = LimitCheck("flushed-peek", limit=3, window=60)
            await redis.script_flush()
            assert (await limiter.peek([check]))[0].remaining == 3
        assert await redis.keys(prefix + "*") == []  # peeking writes nothing
    finally:
        await pipeline.aclose()


# ------------------------------------------------------------------ adapter-specific behaviour


async def test_redis_keys_vanish_when_idle(redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, prefix=prefix)
    await limiter.acquire([LimitCheck("idle", limit=2, window=0.2), LimitCheck("long", limit=10, window=60)])
    assert 0 < await redis.pttl(prefix + "idle") <= 100  # one interval: 0.1 s
    assert 5_000 < await redis.pttl(prefix + "long") <= 6_000
    await asyncio.sleep(0.15)
    assert await redis.exists(prefix + "idle") == 0


async def test_redis_reloads_its_script_after_a_flush(redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, prefix=prefix)
    check = LimitCheck("flush", limit=3, window=60)
    await limiter.acquire([check])
    await redis.script_flush()
    assert (await limiter.acquire([check]))[0].remaining == 1


async def test_in_process_sweeps_idle_keys() -> None:
    clock = ManualClock()
    limiter = InProcessRateLimiter(clock, sweep_every=10)
    for i in range(10):
        await limiter.acquire([LimitCheck(f"k{i}", limit=5, window=1)])
    assert len(limiter) == 10  # swept on the tenth call, but every entry is still live
    clock.now += 1
    for _ in range(9):
        await limiter.acquire([LimitCheck("last", limit=5, window=1)])
    assert len(limiter) == 11
    await limiter.acquire([LimitCheck("last", limit=5, window=1)])
    assert len(limiter) == 1


# --------------------------------------------------- the Lua script computes what Python computes


@pytest.fixture(scope="module")
def lua_store(redis_url: str) -> Iterator[tuple[sync_redis.Redis, str]]:
    client = sync_redis.Redis.from_url(redis_url)
    prefix = f"sluice:test:{secrets.token_hex(6)}:"
    try:
        yield client, prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


_LUA = files("infrastructure.limits").joinpath("gcra.lua").read_text(encoding="utf-8")
_policy = st.tuples(
    st.integers(min_value=1, max_value=1000),
    st.floats(min_value=0.001, max_value=1e6, allow_nan=False),
    st.integers(min_value=1, max_value=5),
)


@settings(deadline=None, max_examples=300)
@given(
    policies=st.lists(_policy, min_size=1, max_size=3),
    now=st.one_of(st.integers(0, 2**40), st.integers(1_500_000_000 * 2**20, 2_500_000_000 * 2**20)),
    offsets=st.lists(st.one_of(st.none(), st.floats(-1.5, 1.5, allow_nan=False)), min_size=3, max_size=3),
)
def test_the_lua_script_is_a_transliteration_of_gcra(
    lua_store: tuple[sync_redis.Redis, str],
    policies: list[tuple[int, float, int]],
    now: int,
    offsets: list[float | None],
) -> None:
    """Random stored TATs, decided at a given instant by the script and by domain.decide_all."""
    client, prefix = lua_store
    checks = [LimitCheck(f"{prefix}{i}", limit, window, cost) for i, (limit, window, cost) in enumerate(policies)]
    tats: list[int | None] = []
    for check, offset in zip(checks, offsets, strict=False):
        tat = None if offset is None else max(0, now + int(offset * to_ticks(check.window)))
        tats.append(tat)
        if tat is None:
            client.delete(check.key)
        else:
            client.set(check.key, tat)
    args: list[int] = []
    for c in checks:
        args += (c.limit, to_ticks(c.window), c.cost)
    replies = client.eval(_LUA, len(checks), *[c.key for c in checks], *args, now)
    stored = [client.get(c.key) for c in checks]

    expected, new_tats = decide_all(
        [None if t is None else t / TICKS_PER_SECOND for t in tats], now / TICKS_PER_SECOND, checks
    )
    got = [(bool(a), r, reset / TICKS_PER_SECOND, retry / TICKS_PER_SECOND) for a, r, reset, retry in replies]
    assert got == [(d.allowed, d.remaining, d.reset_after, d.retry_after) for d in expected]
    for value, tat, new_tat in zip(stored, tats, new_tats, strict=True):
        if new_tat is None:
            assert value is None
        elif value is not None:
            assert int(value) / TICKS_PER_SECOND == new_tat
        else:  # written with a time to live this short that it has lapsed already
            assert tat is None or new_tat != tat / TICKS_PER_SECOND
            assert new_tat - now / TICKS_PER_SECOND < 0.5
