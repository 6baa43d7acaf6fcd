"""What the process does around serving: start its background work, and drain it in the one order that loses nothing.

Start: the usage-record flusher, then a sweep of credit leases that dead processes left, then the
housekeeping loop. Stop: wait until every admitted request is settled (streams cut at the grace
deadline settle as they unwind), then return credit leases, send spend counters and write usage
records. The adapters themselves are closed afterwards by the container (`interfaces/providers`).
"""

import asyncio
import contextlib
import gc
import logging
from typing import Protocol

from application.background import BackgroundTasks
from application.credit_leases import LeasedCreditLedger
from application.metering import Meter
from application.spend_cache import CachedSpendCounter
from application.use_cases.generate_images import PurgeExpiredImages
from application.use_cases.leases import ReconcileLeases

log = logging.getLogger("sluice")

# How long shutdown waits for admitted requests to settle after the server stopped serving them.
_SETTLE_WAIT_SECONDS = 10.0
# Expired images are never served (the store checks); deleting them only bounds the table.
_IMAGE_PURGE_SECONDS = 300.0


class UsageBuffer(Protocol):
    """The buffered usage recorder's own lifecycle (its flusher task), beside the `UsageRecorder` port."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...


class Lifecycle:
    def __init__(
        self,
        *,
        meter: Meter,
        tasks: BackgroundTasks,
        ledger: LeasedCreditLedger,
        spend: CachedSpendCounter,
        usage_store: UsageBuffer,
        reconcile: ReconcileLeases,
        lease_seconds: float,
        purge_images: PurgeExpiredImages | None = None,
    ) -> None:
        self._meter = meter
        self._tasks = tasks
        self._ledger = ledger
        self._spend = spend
        self._usage_store = usage_store
        self._reconcile_leases = reconcile
        self._lease_seconds = lease_seconds
        self._purge_images = purge_images
        self._sweeper: asyncio.Task[None] | None = None
        self._stopped = False

    async def start(self) -> None:
        await self._usage_store.start()
        await self._reconcile()
        self._sweeper = asyncio.get_running_loop().create_task(self._housekeeping())
        # Everything built so far lives as long as the process: keep it out of the collector's
        # scans, and collect young objects less often (a request allocates many short-lived ones).
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)

    async def _housekeeping(self) -> None:
        """Every half second: send spend counters, give back idle credit leases. Every third of the
        lease time: renew this process's leases; every half: return the expired ones of dead processes."""
        loop = asyncio.get_running_loop()
        lease_seconds = self._lease_seconds
        renew_at = reconcile_at = loop.time()
        purge_at = renew_at + _IMAGE_PURGE_SECONDS
        while True:
            await asyncio.sleep(min(0.5, lease_seconds / 4))
            try:
                await self._spend.flush()
                await self._ledger.return_idle()
            except Exception:
                log.exception("housekeeping failed")
            now = loop.time()
            if now >= renew_at:
                renew_at = now + lease_seconds / 3
                try:
                    await self._ledger.renew()
                except Exception:
                    log.exception("renewing credit leases failed")
            if now >= reconcile_at:
                reconcile_at = now + lease_seconds / 2
                await self._reconcile()
            if now >= purge_at and self._purge_images is not None:
                purge_at = now + _IMAGE_PURGE_SECONDS
                try:
                    await self._purge_images.execute()
                except Exception:
                    log.exception("deleting expired images failed")

    async def _reconcile(self) -> None:
        try:
            await self._reconcile_leases.execute()
        except Exception:
            log.exception("returning expired credit leases failed")

    async def stop(self) -> None:
        """Also for a process that never started (the CLI): what its command left is returned all the same."""
        if self._stopped:
            return
        self._stopped = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper  # let it unwind (a close it was making stays for sync) first
        await self._settle_everything()
        try:
            await self._ledger.sync()
        except Exception:
            log.exception("returning credit leases at shutdown failed; they go back when they expire")
        await self._send_spend_counters()
        await self._usage_store.close()

    async def _send_spend_counters(self, attempts: int = 6) -> None:
        # A batch is idempotent, so resending it through a short Redis blip cannot count it twice.
        for attempt in range(attempts):
            await self._spend.flush()  # keeps a failed batch pending, never raises
            if not self._spend.unsent:
                return
            if attempt < attempts - 1:
                await asyncio.sleep(0.5)
        log.error("shutting down with $%.6f of spend-counter additions unsent", self._spend.unsent / 1_000_000)

    async def _settle_everything(self) -> None:
        """Streams cancelled at the grace deadline spawn their settlements as they unwind, after the
        server has already asked us to stop: wait for those, not only for the ones already running."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _SETTLE_WAIT_SECONDS
        while (self._meter.unsettled or self._tasks.pending) and loop.time() < deadline:
            await self._tasks.drain()
            if self._meter.unsettled:
                await asyncio.sleep(0.01)
        if self._meter.unsettled:
            await self._meter.settle_abandoned()
        await self._tasks.drain()
