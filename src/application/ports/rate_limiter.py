from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.rate_policy import Decision, LimitCheck


class RateLimiter(Protocol):
    async def acquire(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        """Decides every check at once, atomically, all or nothing (one round trip)."""
        ...

    async def peek(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        """The state of every check as a request would find it now, spending nothing (read-only;
        `domain.rate_policy.peek`): `remaining` is how many requests would be admitted now."""
        ...


SPEND_BATCH_ID_SECONDS = 86400  # how long a store remembers a batch id: a resend comes well within it


@dataclass(frozen=True, slots=True)
class SpendBatch:
    """Additions sent together under one id, so a batch sent twice (a retry after a timeout) counts once."""

    batch_id: str
    additions: Mapping[str, tuple[int, int]]  # key -> (micros, ttl_seconds)


class SpendCounter(Protocol):
    """Money spent per subject and period, shared by every gateway process."""

    async def spent(self, key: str) -> int | None:
        """None when the counter is unknown here (then the use case seeds it from the ledger)."""
        ...

    async def seed(self, key: str, micros: int, ttl_seconds: int) -> None:
        """Sets the counter only if it does not exist yet."""
        ...

    async def add(self, key: str, micros: int, ttl_seconds: int) -> None: ...


class SpendStore(SpendCounter, Protocol):
    """The shared store behind the per-process spend cache."""

    async def add_batch(self, batch: SpendBatch) -> None:
        """Applies every addition (INCRBY, then the key's TTL) atomically, and at most once per
        batch id (remembered for SPEND_BATCH_ID_SECONDS): applying a batch again is a no-op."""
        ...
