"""Rate limits and spend counters in this process's memory: one gateway process, or tests.

Neither class awaits anything while it decides, so on one event loop every call is atomic.
Idle entries are swept in passing: after as many calls as the table had entries at the last
sweep (and at least `sweep_every`), one pass drops what has expired, which keeps the cost
amortised O(1) per call.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from application.ports.rate_limiter import SPEND_BATCH_ID_SECONDS, SpendBatch
from domain.rate_policy import Decision, LimitCheck, decide_all, peek

Clock = Callable[[], float]

_SWEEP_EVERY = 1024


class InProcessRateLimiter:
    """GCRA over a dict of key -> TAT (monotonic seconds)."""

    def __init__(self, clock: Clock = time.monotonic, *, sweep_every: int = _SWEEP_EVERY) -> None:
        self._clock = clock
        self._tats: dict[str, float] = {}
        self._sweep_every = sweep_every
        self._calls_until_sweep = sweep_every

    async def acquire(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        now = self._clock()
        tats = self._tats
        decisions, new_tats = decide_all([tats.get(c.key) for c in checks], now, checks)
        for check, tat in zip(checks, new_tats, strict=True):
            if tat is not None:
                tats[check.key] = tat
        self._calls_until_sweep -= 1
        if self._calls_until_sweep <= 0:
            self._sweep(now)
        return decisions

    async def peek(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        now = self._clock()
        return [peek(self._tats.get(c.key), now, c.limit, c.window, c.cost) for c in checks]

    def _sweep(self, now: float) -> None:
        # A TAT at or before now is the same state as no entry at all.
        self._tats = {key: tat for key, tat in self._tats.items() if tat > now}
        self._calls_until_sweep = max(self._sweep_every, len(self._tats))

    def __len__(self) -> int:
        """Entries held, expired ones included until the next sweep."""
        return len(self._tats)


@dataclass(slots=True)
class _Counter:
    value: int
    expires_at: float


class InProcessSpendCounter:
    """Counters with a time to live, like Redis INCRBY + EXPIRE; batches applied once per id."""

    def __init__(self, clock: Clock = time.monotonic, *, sweep_every: int = _SWEEP_EVERY) -> None:
        self._clock = clock
        self._counters: dict[str, _Counter] = {}
        self._batches: dict[str, float] = {}  # batch id -> when it is forgotten
        self._sweep_every = sweep_every
        self._calls_until_sweep = sweep_every

    def _live(self, key: str, now: float) -> _Counter | None:
        counter = self._counters.get(key)
        if counter is not None and counter.expires_at <= now:
            del self._counters[key]
            return None
        return counter

    def _tick(self, now: float) -> None:
        self._calls_until_sweep -= 1
        if self._calls_until_sweep <= 0:
            self._counters = {k: c for k, c in self._counters.items() if c.expires_at > now}
            self._batches = {b: until for b, until in self._batches.items() if until > now}
            self._calls_until_sweep = max(self._sweep_every, len(self._counters) + len(self._batches))

    async def spent(self, key: str) -> int | None:
        now = self._clock()
        self._tick(now)
        counter = self._live(key, now)
        return None if counter is None else counter.value

    async def seed(self, key: str, micros: int, ttl_seconds: int) -> None:
        now = self._clock()
        self._tick(now)
        if self._live(key, now) is None:
            self._counters[key] = _Counter(micros, now + ttl_seconds)

    async def add(self, key: str, micros: int, ttl_seconds: int) -> None:
        now = self._clock()
        self._tick(now)
        self._add(key, micros, ttl_seconds, now)

    async def add_batch(self, batch: SpendBatch) -> None:
        now = self._clock()
        self._tick(now)
        seen_until = self._batches.get(batch.batch_id)
        if seen_until is not None and seen_until > now:
            return
        self._batches[batch.batch_id] = now + SPEND_BATCH_ID_SECONDS
        for key, (micros, ttl_seconds) in batch.additions.items():
            self._add(key, micros, ttl_seconds, now)

    def _add(self, key: str, micros: int, ttl_seconds: int, now: float) -> None:
        counter = self._live(key, now)
        if counter is None:
            self._counters[key] = _Counter(micros, now + ttl_seconds)
        else:
            counter.value += micros
            counter.expires_at = now + ttl_seconds

    def __len__(self) -> int:
        return len(self._counters)
