"""Operators' view of credit leases, and the sweep that returns those their processes left behind."""

import logging

from application.ports.clock import Clock
from application.ports.leases import LeaseStore
from domain.leases import Lease, LeaseStanding

log = logging.getLogger("sluice.credits")


class ListLeases:
    def __init__(self, leases: LeaseStore) -> None:
        self._leases = leases

    async def execute(self) -> list[LeaseStanding]:
        return await self._leases.standing()


class ReconcileLeases:
    """Returns every expired lease: the lease minus what its usage records show as spent. Idempotent."""

    def __init__(self, leases: LeaseStore, clock: Clock) -> None:
        self._leases = leases
        self._clock = clock

    async def execute(self) -> list[tuple[Lease, int]]:
        now = self._clock.now()
        returned: list[tuple[Lease, int]] = []
        for lease in await self._leases.expired(now):
            amount = await self._leases.reclaim(lease.id, now)
            if amount is None:
                continue  # its owner, or another sweeper, closed it in the meantime
            log.warning(
                "returned credit lease %s of account %s (held by %s, expired %s): %d micro-dollars back",
                lease.id,
                lease.account_id,
                lease.owner,
                lease.expires_at.isoformat(timespec="seconds"),
                amount,
            )
            returned.append((lease, amount))
        return returned
