from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from domain.leases import Lease, LeaseStanding


class LeaseStore(Protocol):
    """Durable credit leases: each one a RESERVE entry in the ledger plus a row that says who holds it."""

    async def open(self, lease: Lease) -> bool:
        """Takes the lease's amount from the balance if it covers it (atomically); False when short."""
        ...

    async def close(self, lease_id: str, returned_micros: int, now: datetime) -> bool:
        """The owner gives back what it did not spend; False when the lease was closed already."""
        ...

    async def reclaim(self, lease_id: str, now: datetime) -> int | None:
        """Closes a lease whose owner is gone: gives back the lease minus what its usage records
        show as spent. Returns that amount, or None when the lease was closed already."""
        ...

    async def renew(self, lease_ids: Collection[str], expires_at: datetime) -> set[str]:
        """Moves the expiry of those leases still open; returns their ids."""
        ...

    async def expired(self, now: datetime) -> list[Lease]:
        """Open leases whose expiry has passed."""
        ...

    async def standing(self) -> list[LeaseStanding]:
        """Every open lease, oldest first."""
        ...
