"""One contract for every SpendCounter adapter: in-process (on a fake clock) and Redis."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from application.ports.rate_limiter import SpendCounter
from infrastructure.limits.memory import InProcessSpendCounter
from infrastructure.limits.redis import RedisSpendCounter, redis_client


class ManualClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Subject:
    counter: SpendCounter
    advance: Callable[[float], Awaitable[None]]
    ttl: Callable[[str], Awaitable[float | None]]  # seconds left, None when the key is gone


@pytest.fixture(params=["in-process", "redis"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    if request.param == "in-process":
        clock = ManualClock()
        counter = InProcessSpendCounter(clock)

        async def advance(seconds: float) -> None:
            clock.now += seconds

        async def ttl(key: str) -> float | None:
            entry = counter._counters.get(key)
            return None if entry is None or entry.expires_at <= clock.now else entry.expires_at - clock.now

        yield Subject(counter, advance, ttl)
        return
    prefix = f"sluice:test:{secrets.token_hex(6)}:"
    client = redis_client(request.getfixturevalue("redis_url"))

    async def redis_ttl(key: str) -> float | None:
        millis = await client.pttl(prefix + key)
        return None if millis < 0 else millis / 1000

    try:
        yield Subject(RedisSpendCounter(client, prefix=prefix), asyncio.sleep, redis_ttl)
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_an_unknown_counter_is_none(subject: Subject) -> None:
    assert await subject.counter.spent("nobody") is None


async def test_seed_sets_only_a_missing_counter(subject: Subject) -> None:
    await subject.counter.seed("acct", 1_500_000, 3600)
    assert await subject.counter.spent("acct") == 1_500_000
    await subject.counter.seed("acct", 9, 3600)
    assert await subject.counter.spent("acct") == 1_500_000
    assert 3590 < (await subject.ttl("acct") or 0) <= 3600


async def test_a_seed_of_zero_is_known(subject: Subject) -> None:
    await subject.counter.seed("fresh", 0, 60)
    assert await subject.counter.spent("fresh") == 0


async def test_add_accumulates_and_refreshes_the_ttl(subject: Subject) -> None:
    await subject.counter.seed("acct", 100, 60)
    await subject.counter.add("acct", 25, 7200)
    await subject.counter.add("acct", 5, 7200)
    assert await subject.counter.spent("acct") == 130
    assert 7190 < (await subject.ttl("acct") or 0) <= 7200


async def test_add_to_a_missing_counter_starts_it(subject: Subject) -> None:
    await subject.counter.add("new", 42, 60)
    assert await subject.counter.spent("new") == 42
    assert 50 < (await subject.ttl("new") or 0) <= 60


async def test_concurrent_adds_are_all_counted(subject: Subject) -> None:
    await subject.counter.seed("busy", 0, 600)
    await asyncio.gather(*(subject.counter.add("busy", 3, 600) for _ in range(300)))
    assert await subject.counter.spent("busy") == 900


async def test_counters_expire(subject: Subject) -> None:
    await subject.counter.seed("short", 7, 1)
    await subject.counter.seed("long", 8, 60)
    await subject.advance(1.1)
    assert await subject.counter.spent("short") is None
    assert await subject.counter.spent("long") == 8
    await subject.counter.seed("short", 1, 60)  # after expiry a seed takes again
    assert await subject.counter.spent("short") == 1


async def test_keys_are_independent(subject: Subject) -> None:
    await subject.counter.add("a", 1, 60)
    await subject.counter.add("b", 2, 60)
    assert (await subject.counter.spent("a"), await subject.counter.spent("b")) == (1, 2)


async def test_in_process_counters_are_swept() -> None:
    clock = ManualClock()
    counter = InProcessSpendCounter(clock, sweep_every=5)
    for i in range(5):
        await counter.seed(f"k{i}", i, 10)
    clock.now += 11
    for _ in range(5):
        await counter.add("live", 1, 10)
    assert len(counter) == 1


async def test_a_batch_is_applied_once_per_id(subject: Subject) -> None:
    from application.ports.rate_limiter import SpendBatch

    store = subject.counter
    assert hasattr(store, "add_batch")
    await store.seed("a", 100, 60)
    batch = SpendBatch("batch-1", {"a": (22, 7200), "b": (33, 60)})
    await store.add_batch(batch)
    await store.add_batch(batch)  # a resend after a lost reply
    assert (await store.spent("a"), await store.spent("b")) == (122, 33)
    assert 7190 < (await subject.ttl("a") or 0) <= 7200
    await store.add_batch(SpendBatch("batch-2", {"a": (1, 7200)}))
    assert await store.spent("a") == 123
