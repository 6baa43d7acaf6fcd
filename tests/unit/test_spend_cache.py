"""The spend cache: fresh enough for a soft cap, and never forgets a spend."""

from application.spend_cache import CachedSpendCounter
from tests.fakes.memory import FakeClock, InMemorySpendCounter


class FlakySpendCounter(InMemorySpendCounter):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.reads = 0
        self.fail_adds = False

    async def spent(self, key: str) -> int | None:
        self.reads += 1
        return await super().spent(key)

    async def add(self, key: str, micros: int, ttl_seconds: int) -> None:
        if self.fail_adds:
            raise ConnectionError("store down")
        await super().add(key, micros, ttl_seconds)


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


async def test_flush_sends_the_sum_once():
    clock = FakeClock()
    inner = FlakySpendCounter(clock)
    await inner.seed("k", 0, 3600)
    sut = CachedSpendCounter(inner, clock)
    for _ in range(4):
        await sut.add("k", 3, 3600)
    await sut.flush()
    await sut.flush()
    assert await inner.spent("k") == 12


async def test_a_failed_flush_keeps_the_spend_for_the_next():
    clock = FakeClock()
    inner = FlakySpendCounter(clock)
    await inner.seed("k", 0, 3600)
    sut = CachedSpendCounter(inner, clock)
    await sut.add("k", 7, 3600)
    inner.fail_adds = True
    await sut.flush()
    await sut.add("k", 1, 3600)
    inner.fail_adds = False
    await sut.flush()
    assert await inner.spent("k") == 8


async def test_unknown_counters_stay_unknown_until_seeded():
    clock = FakeClock()
    sut = CachedSpendCounter(FlakySpendCounter(clock), clock)
    assert await sut.spent("k") is None
    await sut.seed("k", 40, 3600)
    assert await sut.spent("k") == 40
