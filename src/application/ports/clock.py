from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC wall time (records, expiry, periods)."""
        ...

    def monotonic(self) -> float:
        """Seconds for durations and caches."""
        ...
