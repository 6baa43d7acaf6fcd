"""Spend counters at request speed: read through a short local cache, write behind in batches.

Spend caps are soft by nature (requests in flight already overshoot them by their own cost), so a
process may read a counter up to `ttl_seconds` old and send its additions every `flush_seconds`.
That turns two shared-store round trips per request into none, at the price of a cap that can be
overshot by about one second of the account's spending in other processes.
"""

import logging
from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.rate_limiter import SpendCounter

log = logging.getLogger("sluice.spend")


@dataclass
class _Entry:
    value: int | None  # the shared value when read (None: unknown there), plus our own unsent additions
    read_at: float


class CachedSpendCounter:
    def __init__(self, inner: SpendCounter, clock: Clock, *, ttl_seconds: float = 1.0) -> None:
        self._inner = inner
        self._clock = clock
        self._ttl = ttl_seconds
        self._cache: dict[str, _Entry] = {}
        self._unsent: dict[str, tuple[int, int]] = {}  # key -> (micros, ttl_seconds)

    async def spent(self, key: str) -> int | None:
        now = self._clock.monotonic()
        entry = self._cache.get(key)
        if entry is None or now - entry.read_at > self._ttl:
            shared = await self._inner.spent(key)
            unsent = self._unsent.get(key, (0, 0))[0]
            entry = self._cache[key] = _Entry(None if shared is None else shared + unsent, now)
            if len(self._cache) > 100_000:
                self._cache.clear()
        return entry.value

    async def seed(self, key: str, micros: int, ttl_seconds: int) -> None:
        await self._inner.seed(key, micros, ttl_seconds)
        self._cache.pop(key, None)

    async def add(self, key: str, micros: int, ttl_seconds: int) -> None:
        sent, _ = self._unsent.get(key, (0, 0))
        self._unsent[key] = (sent + micros, ttl_seconds)
        entry = self._cache.get(key)
        if entry is not None and entry.value is not None:
            entry.value += micros

    async def flush(self) -> None:
        """Sends the additions gathered so far (call it periodically and at shutdown)."""
        unsent, self._unsent = self._unsent, {}
        for key, (micros, ttl) in unsent.items():
            try:
                await self._inner.add(key, micros, ttl)
            except Exception:
                # Put it back: the next flush sends it; a spend is never forgotten.
                earlier, _ = self._unsent.get(key, (0, 0))
                self._unsent[key] = (earlier + micros, ttl)
                log.exception("sending spend counters failed; will retry")
                return
