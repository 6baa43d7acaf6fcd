"""Prepaid credits at request speed: each process spends from a lease of an account's balance.

A lease is one RESERVE entry in the durable ledger, so the whole lease is held there. Requests
then hold and settle against the lease in memory, and the lease is closed by one SETTLE entry
that gives back what was not spent. The ledger stays exact (balance = sum of entries) with two
writes per lease instead of two per request, and several processes can never spend the same
credit twice: each spends only what its own lease took.

The price: while a process holds a lease, other processes (and `sluice credits balance`) see the
balance without it. Idle leases go back after `idle_seconds`, at shutdown, and whenever a caller
asks for its own balance. Every lease has an expiry that its process renews while it lives; a
process that dies (SIGKILL, a lost machine) leaves its leases to expire, and any other process,
or the next to start, returns them (`ReconcileLeases`) less what their usage records show spent.
"""

import asyncio
import itertools
import logging
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.ports.clock import Clock
from application.ports.credits import CreditLedger
from application.ports.leases import LeaseStore
from domain.credits import EntryKind, LedgerEntry, covers
from domain.leases import Lease

log = logging.getLogger("sluice.credits")

_SETTLED_MEMORY = 100_000
_FAST_RENEWAL_SECONDS = 1.0
_RENEW_AHEAD_SHARE = 0.25  # the next lease is taken when a quarter of the current one is left


@dataclass(eq=False)
class _Lease:
    account_id: str
    key: str  # idempotency key of the RESERVE entry that took it
    allowance: int  # unspent; below zero after a completion overran its hold
    size: int = 0  # what the lease took
    opened: float = 0.0
    holds: set[str] = field(default_factory=set)  # reserve keys of requests not yet settled
    touched: float = 0.0
    retired: bool = False  # replaced by a newer lease; closes once its holds are settled
    expires_at: datetime | None = None  # as last renewed; past it, another process may return it
    lost: bool = False  # returned by another process (its expiry passed unrenewed): nothing to close
    uncertain: bool = False  # its opening failed without saying whether the store took it


def _report_early_failure(renewal: "asyncio.Future[_Lease | None]") -> None:
    if not renewal.cancelled() and renewal.exception() is not None:
        log.warning("taking the next credit lease early failed: %s", renewal.exception())


class LeasedCreditLedger:
    """A `CreditLedger` that batches holds and settlements through per-account leases."""

    def __init__(
        self,
        inner: CreditLedger,
        leases: LeaseStore,
        clock: Clock,
        *,
        owner: str,
        lease_seconds: float = 30.0,
        idle_seconds: float = 2.0,
        min_lease_micros: int = 100_000,
        lease_factor: int = 10,
    ) -> None:
        self._inner = inner
        self._leases = leases
        self._clock = clock
        self._owner = owner
        self._ttl = timedelta(seconds=lease_seconds)
        self._idle = idle_seconds
        self._min_lease = min_lease_micros
        self._factor = lease_factor
        self._current: dict[str, _Lease] = {}
        self._by_hold: dict[str, _Lease] = {}
        # One lease being taken per account at a time; every request that needs it awaits the same one.
        self._renewing: dict[str, asyncio.Future[_Lease | None]] = {}
        self._settled: OrderedDict[str, None] = OrderedDict()
        # Closes that failed (or were cancelled), by lease id; retried by sync and return_idle. A lease
        # leaves this only once its close went through, so a cancelled sweep cannot forget one.
        self._unreturned: dict[str, _Lease] = {}
        self._open: dict[str, _Lease] = {}  # every lease taken and not closed yet, current or retired
        self._prefix = "lease_" + secrets.token_hex(6)
        self._numbers = itertools.count(1)

    @property
    def open_leases(self) -> int:
        return len(self._open)

    def oldest_lease_seconds(self) -> float:
        """How long the oldest lease this process holds has been open (0 with none): a lease that
        stays open for long means a request that never settles, its credit held all that time."""
        if not self._open:
            return 0.0
        now = self._clock.monotonic()
        return max(0.0, now - min(lease.opened for lease in self._open.values()))

    async def balance(self, account_id: str) -> int:
        lease = self._current.get(account_id)
        return await self._inner.balance(account_id) + (lease.allowance if lease else 0)

    async def entries(self, account_id: str) -> list[LedgerEntry]:
        return await self._inner.entries(account_id)

    def payer(self, request_id: str) -> str | None:
        lease = self._by_hold.get(f"{request_id}:reserve")
        return lease.key if lease is not None else None

    async def append(self, entry: LedgerEntry) -> bool:
        if entry.kind in (EntryKind.SETTLE, EntryKind.RELEASE):
            if entry.idempotency_key in self._settled:
                return False
            lease = self._by_hold.pop(entry.idempotency_key.removesuffix(":settle") + ":reserve", None)
            if lease is not None:
                self._remember_settled(entry.idempotency_key)
                await self._close_hold(lease, entry)
                return True
        return await self._inner.append(entry)

    def _remember_settled(self, key: str) -> None:
        # Settlements made in memory never reach the store's key index: remember recent ones so a
        # repeated settlement is refused here, as the store would refuse it.
        self._settled[key] = None
        if len(self._settled) > _SETTLED_MEMORY:
            self._settled.popitem(last=False)

    async def reserve(self, entry: LedgerEntry) -> int | None:
        if entry.idempotency_key in self._by_hold:
            return self._by_hold[entry.idempotency_key].allowance
        amount = -entry.amount_micros
        account_id = entry.account_id
        lease = self._current.get(account_id)
        if lease is None or lease.allowance < amount:
            lease = await self._lease_covering(account_id, amount)
            if lease is None:
                return None
        lease.allowance -= amount
        lease.holds.add(entry.idempotency_key)
        lease.touched = self._clock.monotonic()
        self._by_hold[entry.idempotency_key] = lease
        if lease.allowance < lease.size * _RENEW_AHEAD_SHARE and account_id not in self._renewing:
            # The next lease is taken while this one still serves: requests never queue behind
            # the ledger writes, which at c=64 held every request of the account for 5-30 ms.
            self._start_renewal(account_id, amount, lease, ahead=True)
        return lease.allowance

    async def _lease_covering(self, account_id: str, amount: int) -> _Lease | None:
        """The current lease once it covers `amount`, taking a new one if needed (one at a time)."""
        while True:
            lease = self._current.get(account_id)
            if lease is not None and lease.allowance >= amount:
                return lease
            pending = self._renewing.get(account_id)
            ours = pending is None
            if pending is None:
                pending = self._start_renewal(account_id, amount, lease, ahead=False)
            renewed = await asyncio.shield(pending)
            if renewed is None and ours:
                return None  # the balance cannot cover it (or the store refused): no lease to be had

    def _start_renewal(
        self, account_id: str, amount: int, old: _Lease | None, *, ahead: bool
    ) -> asyncio.Future[_Lease | None]:
        renewal = self._renewing[account_id] = asyncio.ensure_future(self._renewal(account_id, amount, old, ahead))
        if ahead:  # nobody waits on an early renewal: its failure is told here
            renewal.add_done_callback(_report_early_failure)
        return renewal

    async def _renewal(self, account_id: str, amount: int, old: _Lease | None, ahead: bool) -> _Lease | None:
        try:
            return await self._renew(account_id, amount, old, ahead=ahead)
        finally:
            # Gone from the map the moment it ends: a waiter that finds it must find it still running.
            if self._renewing.get(account_id) is asyncio.current_task():
                del self._renewing[account_id]

    async def sync(self, account_id: str | None = None) -> None:
        """Returns every lease without open holds (of one account, or all) to the ledger."""
        if self._renewing:  # a lease being taken now must not open after the leases were returned
            await asyncio.gather(*self._renewing.values(), return_exceptions=True)
        await self._retry_unreturned()
        accounts = [account_id] if account_id is not None else list(self._current)
        for account in accounts:
            lease = self._current.get(account)
            if lease is not None and not lease.holds:
                await self._close(lease)

    async def return_idle(self) -> None:
        """Returns leases nobody has used for `idle_seconds` (call it periodically)."""
        await self._retry_unreturned()
        cutoff = self._clock.monotonic() - self._idle
        for lease in list(self._current.values()):
            if not lease.holds and lease.touched < cutoff:
                await self._close(lease)

    async def renew(self) -> None:
        """Moves the expiry of every lease this process holds; call it well within the lease time.

        Raises when the store cannot be reached; leases whose expiry has passed meanwhile take no
        new holds, since another process may return them at any moment.
        """
        ids = [key for key, lease in self._open.items() if not lease.lost]
        if not ids:
            return
        until = self._clock.now() + self._ttl
        try:
            still_open = await self._leases.renew(ids, until)
        except Exception:
            now = self._clock.now()
            for lease in list(self._current.values()):
                if lease.expires_at is not None and lease.expires_at <= now:
                    await self._retire(lease)
            raise
        for key in ids:
            lease = self._open[key]
            if key in still_open:
                lease.expires_at = until
            else:
                log.warning("credit lease %s was returned by another process after its expiry", key)
                lease.lost = True
                await self._retire(lease)

    async def _retire(self, lease: _Lease) -> None:
        if self._current.get(lease.account_id) is lease:
            del self._current[lease.account_id]
        lease.retired = True
        if not lease.holds:
            await self._close(lease)

    async def _close_hold(self, lease: _Lease, entry: LedgerEntry) -> None:
        # A settlement carries reserved - actual (what goes back), a release the whole hold.
        lease.allowance += entry.amount_micros
        lease.holds.discard(entry.idempotency_key.removesuffix(":settle") + ":reserve")
        lease.touched = self._clock.monotonic()
        if lease.retired and not lease.holds:
            await self._close(lease)

    async def _renew(self, account_id: str, amount: int, old: _Lease | None, *, ahead: bool) -> _Lease | None:
        """A new current lease for the account. `ahead`: the old one still serves until the new one
        is open (and stays current if none can be had); otherwise it is retired first, so that what
        is left of it goes back to the balance the new lease is taken from."""
        now = self._clock.monotonic()
        wanted = max(amount * self._factor, self._min_lease)
        if old is not None and now - old.opened < _FAST_RENEWAL_SECONDS:
            # Used up within a second: many requests are holding at once, so take twice as much.
            wanted = max(wanted, 2 * old.size)
        if old is not None and not ahead:
            old.retired = True
            if self._current.get(account_id) is old:
                del self._current[account_id]
            if not old.holds:
                await self._close(old)
        for _ in range(3):  # another process may move the balance between the read and the hold
            balance = await self._inner.balance(account_id)
            if not covers(balance, amount):
                return None
            size = min(balance, wanted)
            opened = self._clock.now()
            lease_id = f"{self._prefix}:{next(self._numbers)}"
            taken = Lease(lease_id, account_id, size, self._owner, opened, opened + self._ttl)
            lease = _Lease(account_id, lease_id, size, size=size, opened=now, touched=now)
            lease.expires_at = taken.expires_at
            try:
                opened_here = await self._leases.open(taken)
            except Exception:
                # The store may have committed before its reply was lost: close it like any other
                # (nothing was spent from it) once the store answers; closing one never taken is a no-op.
                lease.retired = lease.uncertain = True
                self._open[lease_id] = lease
                self._unreturned[lease_id] = lease
                raise
            if opened_here:
                self._current[account_id] = self._open[lease_id] = lease
                if old is not None and ahead and not old.retired:
                    await self._retire(old)
                return lease
        return None

    async def _close(self, lease: _Lease) -> None:
        if self._current.get(lease.account_id) is lease:
            del self._current[lease.account_id]
        if lease.lost:
            self._open.pop(lease.key, None)
            self._unreturned.pop(lease.key, None)
            return
        self._unreturned[lease.key] = lease  # until the close below went through
        try:
            if not await self._leases.close(lease.key, lease.allowance, self._clock.now()) and not lease.uncertain:
                log.warning("credit lease %s was returned by another process before its owner", lease.key)
        except Exception:
            # Kept for the next sync or idle sweep: the unspent credit must go back, once.
            log.exception("returning lease %s failed; will retry", lease.key)
            return
        del self._unreturned[lease.key]
        self._open.pop(lease.key, None)

    async def _retry_unreturned(self) -> None:
        for lease in list(self._unreturned.values()):
            await self._close(lease)
