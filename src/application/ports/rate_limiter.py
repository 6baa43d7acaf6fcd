from collections.abc import Sequence
from typing import Protocol

from domain.rate_policy import Decision, LimitCheck


class RateLimiter(Protocol):
    async def acquire(self, checks: Sequence[LimitCheck]) -> list[Decision]:
        """Decides every check at once, atomically, all or nothing (one round trip)."""
        ...


class SpendCounter(Protocol):
    """Money spent per subject and period, shared by every gateway process."""

    async def spent(self, key: str) -> int | None:
        """None when the counter is unknown here (then the use case seeds it from the ledger)."""
        ...

    async def seed(self, key: str, micros: int, ttl_seconds: int) -> None:
        """Sets the counter only if it does not exist yet."""
        ...

    async def add(self, key: str, micros: int, ttl_seconds: int) -> None: ...
