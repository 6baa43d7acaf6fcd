"""Spend counters at request speed: read through a short local cache, write behind in batches.

Spend caps are soft by nature (requests in flight already overshoot them by their own cost), so a
process may read a counter up to `ttl_seconds` old and send its additions every `flush_seconds`.
That turns two shared-store round trips per request into none, at the price of a cap that can be
overshot by about one second of the account's spending in other processes.

Additions are sent as one batch with an id of its own, which the store applies at most once. A
batch that failed or timed out may or may not have been applied, so it is sent again, the very
same (same id, same additions), before anything newer: the store then applies it exactly once.
Additions made meanwhile wait for the next batch.
"""

import asyncio
import logging
import secrets
from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.rate_limiter import SpendBatch, SpendStore

log = logging.getLogger("sluice.spend")

_CACHE_ENTRIES = 100_000


@dataclass
class _Entry:
    value: int | None  # the shared value when read (None: unknown there), plus our own unsent additions
    read_at: float


class CachedSpendCounter:
    def __init__(self, inner: SpendStore, clock: Clock, *, ttl_seconds: float = 1.0) -> None:
        self._inner = inner
        self._clock = clock
        self._ttl = ttl_seconds
        self._cache: dict[str, _Entry] = {}
        self._unsent: dict[str, tuple[int, int]] = {}  # key -> (micros, ttl_seconds), for the next batch
        self._pending: SpendBatch | None = None  # sent, outcome unknown: resent as is until it succeeds
        self._flushing = asyncio.Lock()  # the periodic flush and the one at shutdown must not interleave
        # One read per expired counter, however many requests find it expired at once.
        self._reading: dict[str, asyncio.Future[int | None]] = {}

    async def spent(self, key: str) -> int | None:
        now = self._clock.monotonic()
        entry = self._cache.get(key)
        if entry is None or now - entry.read_at > self._ttl:
            reading = self._reading.get(key)
            if reading is None:
                reading = self._reading[key] = asyncio.ensure_future(self._read(key, now))
                reading.add_done_callback(lambda done: self._read_done(key, done))
            return await asyncio.shield(reading)
        return entry.value

    def _read_done(self, key: str, done: "asyncio.Future[int | None]") -> None:
        self._reading.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved here: every waiter may have gone before it failed

    async def _read(self, key: str, now: float) -> int | None:
        shared = await self._inner.spent(key)
        entry = self._cache[key] = _Entry(None if shared is None else shared + self._not_sent(key), now)
        if len(self._cache) > _CACHE_ENTRIES:
            self._cache.clear()
        return entry.value

    def _not_sent(self, key: str) -> int:
        # A pending batch may already be in the shared value (a timed-out reply): counting it again
        # errs towards the cap, for one read, until that batch is confirmed.
        micros = self._unsent.get(key, (0, 0))[0]
        if self._pending is not None:
            micros += self._pending.additions.get(key, (0, 0))[0]
        return micros

    async def seed(self, key: str, micros: int, ttl_seconds: int) -> None:
        await self._inner.seed(key, micros, ttl_seconds)
        self._cache.pop(key, None)

    async def add(self, key: str, micros: int, ttl_seconds: int) -> None:
        sent, _ = self._unsent.get(key, (0, 0))
        self._unsent[key] = (sent + micros, ttl_seconds)
        entry = self._cache.get(key)
        if entry is not None and entry.value is not None:
            entry.value += micros

    @property
    def unsent(self) -> int:
        """Micro-dollars added here that the store has not confirmed yet."""
        return sum(m for m, _ in self._unsent.values()) + (
            sum(m for m, _ in self._pending.additions.values()) if self._pending else 0
        )

    async def flush(self) -> None:
        """Sends the additions gathered so far (call it periodically and at shutdown).

        Raises nothing: a batch that fails stays pending and the next flush sends it again.
        """
        async with self._flushing:
            for _ in range(2):  # a resent batch, then what gathered meanwhile; the rest waits its turn
                if self._pending is None:
                    if not self._unsent:
                        return
                    self._pending = SpendBatch(secrets.token_hex(16), self._unsent)
                    self._unsent = {}
                try:
                    await self._inner.add_batch(self._pending)
                except Exception:
                    log.exception("sending spend batch %s failed; will resend it", self._pending.batch_id)
                    return
                self._pending = None
