"""The spend cache: fresh enough for a soft cap, and never forgets nor doubles a spend."""

import asyncio

from application.ports.rate_limiter import SpendBatch
from application.spend_cache import CachedSpendCounter
from tests.fakes.memory import FakeClock, InMemorySpendCounter


class FlakySpendCounter(InMemorySpendCounter):
    """Fails batches on demand: before applying them (refused) or after (applied, reply lost)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.reads = 0
        self.refuse = False
        self.lose_replies = False

    async def spent(self, key: str) -> int | None:
        self.reads += 1
        return await super().spent(key)

    async def add_batch(self, batch: SpendBatch) -> None:
        if self.refuse:
            self.batches.append(batch)
            raise ConnectionError("store down")
        await super().add_batch(batch)
        if self.lose_replies:
            raise TimeoutError("the reply never came")


async def test_reads_are_cached_for_the_ttl_and_include_our_own_spend():
    clock = FakeClock()
    inner = FlakySpendCounter(clock)
    await inner.seed("k", 100, 3600)
    sut = CachedSpendCounter(inner, clock, ttl_seconds=1.0)
    assert await sut.spent("k") == 100
    await sut.add("k", 5, 3600)
    assert await sut.spent("k") == 105
    assert inner.reads == 1
    clock.advance(1.5)
    assert await sut.spent("k") == 105  # re-read: 100 shared + 5 not yet sent
    assert inner.reads == 2


async def test_flush_sends_everything_as_one_batch_once():
    clock = FakeClock()
    inner = FlakySpendCounter(clock)
    sut = CachedSpendCounter(inner, clock)
    for _ in range(4):
        await sut.add("k", 3, 3600)
    await sut.add("j", 5, 60)
    await sut.flush()
    await sut.flush()
    assert [dict(b.additions) for b in inner.batches] == [{"k": (12, 3600), "j": (5, 60)}]
    assert (await inner.spent("k"), await inner.spent("j")) == (12, 5)


async def test_a_refused_batch_loses_no_key_and_is_resent_the_same_before_newer_additions():
    clock = FakeClock()
    inner = FlakySpendCounter(clock)
    sut = CachedSpendCounter(inner, clock)
    for key, micros in (("a", 7), ("b", 11), ("c", 13)):
        await sut.add(key, micros, 3600)
    inner.refuse = True
    await sut.flush()
    await sut.add("a", 1, 3600)  # after the failure: goes into the next batch
    assert sut.unsent == 32
    inner.refuse = False
    await sut.flush()
    first, resent, newer = inner.batches
    assert resent == first  # same id, same additions
    assert dict(newer.additions) == {"a": (1, 3600)} and newer.batch_id != first.batch_id
    assert [await inner.spent(k) for k in "abc"] == [8, 11, 13]
    assert sut.unsent == 0


async def test_a_batch_whose_reply_was_lost_is_resent_and_counted_once():
    clock = FakeClock()
    inner = FlakySpendCounter(clock)
    sut = CachedSpendCounter(inner, clock)
    await sut.add("k", 22, 3600)
    await sut.add("j", 33, 3600)
    inner.lose_replies = True
    await sut.flush()  # applied, but this process cannot know it
    inner.lose_replies = False
    await sut.flush()
    assert len(inner.batches) == 2 and inner.batches[0] == inner.batches[1]
    assert (await inner.spent("k"), await inner.spent("j")) == (22, 33)


async def test_unknown_counters_stay_unknown_until_seeded():
    clock = FakeClock()
    sut = CachedSpendCounter(FlakySpendCounter(clock), clock)
    assert await sut.spent("k") is None
    await sut.seed("k", 40, 3600)
    assert await sut.spent("k") == 40


class SlowSpendCounter(FlakySpendCounter):
    async def spent(self, key: str) -> int | None:
        await asyncio.sleep(0.01)  # a round trip: the others arrive meanwhile
        return await super().spent(key)


async def test_requests_finding_a_counter_expired_together_share_one_read():
    clock = FakeClock()
    inner = SlowSpendCounter(clock)
    await inner.seed("k", 100, 3600)
    sut = CachedSpendCounter(inner, clock, ttl_seconds=1.0)

    values = await asyncio.gather(*(sut.spent("k") for _ in range(64)))

    assert values == [100] * 64
    assert inner.reads == 1
    clock.advance(1.5)
    assert await asyncio.gather(*(sut.spent("k") for _ in range(8))) == [100] * 8
    assert inner.reads == 2  # expired: read again, once
