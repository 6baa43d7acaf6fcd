"""Leased credits: many holds per ledger write, and still exact and never overspent."""

import asyncio
import random
from datetime import timedelta

import pytest

from application.credit_leases import LeasedCreditLedger
from domain.credits import EntryKind, grant_entry, hold_entry, release_entry, settle_entry
from tests.fakes.memory import FakeClock, InMemoryCreditLedger, InMemoryLeaseStore


def make(  # type: ignore[no-untyped-def]
    balance: int,
    *,
    clock: FakeClock | None = None,
    inner: InMemoryCreditLedger | None = None,
    store: InMemoryLeaseStore | None = None,
):
    clock = clock or FakeClock()
    inner = inner or InMemoryCreditLedger()
    store = store or InMemoryLeaseStore(inner)
    sut = LeasedCreditLedger(
        inner, store, clock, owner="test", lease_seconds=30, idle_seconds=2.0, min_lease_micros=1_000, lease_factor=10
    )
    return sut, inner, clock


async def funded(balance: int, **kwargs):  # type: ignore[no-untyped-def]
    sut, inner, clock = make(balance, **kwargs)
    if balance:
        await inner.append(grant_entry("a", balance, f"grant-{balance}-{random.random()}", clock.now()))
    return sut, inner, clock


async def test_many_holds_share_one_ledger_write():
    sut, inner, clock = await funded(100_000)
    for i in range(20):
        assert await sut.reserve(hold_entry("a", 100, f"r{i}", clock.now())) is not None
    reserves = [e for e in await inner.entries("a") if e.kind is EntryKind.RESERVE]
    # 10 holds of 100 fill the first lease of 1,000; used up that fast, the next one is twice as large
    assert [e.amount_micros for e in reserves] == [-1_000, -2_000]


async def test_settled_requests_cost_exactly_their_charge_once_synced():
    sut, inner, clock = await funded(100_000)
    for i in range(7):
        await sut.reserve(hold_entry("a", 100, f"r{i}", clock.now()))
        assert await sut.append(settle_entry("a", 100, 30 + i, f"r{i}", clock.now())) is True
    await sut.sync()
    assert await inner.balance("a") == 100_000 - sum(30 + i for i in range(7))
    assert await inner.balance("a") == sum(e.amount_micros for e in await inner.entries("a"))


async def test_a_release_gives_the_whole_hold_back():
    sut, inner, clock = await funded(10_000)
    await sut.reserve(hold_entry("a", 500, "r1", clock.now()))
    await sut.append(release_entry("a", 500, "r1", clock.now()))
    await sut.sync("a")
    assert await inner.balance("a") == 10_000


async def test_an_overrun_is_charged_in_full():
    sut, inner, clock = await funded(10_000)
    await sut.reserve(hold_entry("a", 100, "r1", clock.now()))
    await sut.append(settle_entry("a", 100, 2_500, "r1", clock.now()))
    await sut.sync()
    assert await inner.balance("a") == 10_000 - 2_500


async def test_refused_when_the_balance_cannot_cover_the_hold():
    sut, inner, clock = await funded(50)
    assert await sut.reserve(hold_entry("a", 100, "r1", clock.now())) is None
    assert [e.kind for e in await inner.entries("a")] == [EntryKind.GRANT]
    empty, _, _ = await funded(0)
    assert await empty.reserve(hold_entry("a", 1, "r1", clock.now())) is None


async def test_a_lease_takes_no_more_than_the_balance():
    sut, _inner, clock = await funded(350)
    results = [await sut.reserve(hold_entry("a", 100, f"r{i}", clock.now())) for i in range(4)]
    assert results[:3] == [250, 150, 50]
    assert results[3] is None  # 50 left in the lease, nothing left in the ledger


async def test_renewal_retires_a_lease_with_open_holds_until_they_settle():
    sut, inner, clock = await funded(1_300)
    for i in range(10):
        await sut.reserve(hold_entry("a", 100, f"r{i}", clock.now()))  # first lease (1,000) is used up
    await sut.reserve(hold_entry("a", 100, "r10", clock.now()))  # a second lease: the last 300
    for i in range(10):
        await sut.append(settle_entry("a", 100, 10, f"r{i}", clock.now()))
    closes = [e for e in await inner.entries("a") if e.idempotency_key.endswith(":close")]
    assert [e.amount_micros for e in closes] == [900]  # the retired lease went back once its holds settled
    await sut.append(settle_entry("a", 100, 10, "r10", clock.now()))
    await sut.sync()
    assert await inner.balance("a") == 1_300 - 11 * 10


async def test_idle_leases_go_back_but_not_while_holds_are_open():
    sut, inner, clock = await funded(10_000)
    await sut.reserve(hold_entry("a", 100, "r1", clock.now()))
    clock.advance(5)
    await sut.return_idle()
    assert await inner.balance("a") == 9_000  # a hold is open: the lease stays
    await sut.append(settle_entry("a", 100, 40, "r1", clock.now()))
    await sut.return_idle()
    assert await inner.balance("a") == 9_000  # just used: not idle yet
    clock.advance(3)
    await sut.return_idle()
    assert await inner.balance("a") == 10_000 - 40


async def test_a_repeated_hold_key_holds_once_and_settles_once():
    sut, inner, clock = await funded(10_000)
    entry = hold_entry("a", 100, "r1", clock.now())
    first = await sut.reserve(entry)
    assert await sut.reserve(entry) == first
    assert await sut.append(settle_entry("a", 100, 60, "r1", clock.now())) is True
    assert await sut.append(settle_entry("a", 100, 60, "r1", clock.now())) is False  # a retry
    await sut.sync()
    assert await inner.balance("a") == 10_000 - 60


async def test_grants_pass_straight_through():
    sut, inner, clock = await funded(0)
    assert await sut.append(grant_entry("a", 700, "g1", clock.now())) is True
    assert await inner.balance("a") == 700
    assert await sut.balance("a") == 700


@pytest.mark.parametrize("seed", range(20))
async def test_two_processes_never_spend_more_than_the_balance(seed: int):
    rng = random.Random(seed)
    shared = InMemoryCreditLedger()
    clock = FakeClock()
    await shared.append(grant_entry("a", 5_000, "g", clock.now()))
    processes = [make(0, clock=clock, inner=shared)[0] for _ in range(2)]
    open_holds: list[tuple[LeasedCreditLedger, str, int]] = []
    charged = 0
    for i in range(300):
        sut = rng.choice(processes)
        if open_holds and rng.random() < 0.5:
            owner, request, held = open_holds.pop(rng.randrange(len(open_holds)))
            actual = rng.randint(0, held)
            await owner.append(settle_entry("a", held, actual, request, clock.now()))
            charged += actual
        else:
            amount = rng.randint(1, 300)
            if await sut.reserve(hold_entry("a", amount, f"r{i}", clock.now())) is not None:
                open_holds.append((sut, f"r{i}", amount))
        if rng.random() < 0.05:
            clock.advance(3)
            await rng.choice(processes).return_idle()
    for owner, request, held in open_holds:
        await owner.append(settle_entry("a", held, held, request, clock.now()))
        charged += held
    for sut in processes:
        await sut.sync()
    balance = await shared.balance("a")
    assert balance == 5_000 - charged >= 0
    assert balance == sum(e.amount_micros for e in await shared.entries("a"))


async def test_a_lease_used_up_quickly_is_renewed_twice_as_large():
    sut, inner, clock = await funded(1_000_000)
    for i in range(10):
        await sut.reserve(hold_entry("a", 100, f"r{i}", clock.now()))  # holds the whole first lease
    await sut.reserve(hold_entry("a", 100, "r10", clock.now()))
    clock.advance(5)
    for i in range(11, 31):
        await sut.reserve(hold_entry("a", 100, f"r{i}", clock.now()))
    leases = [-e.amount_micros for e in await inner.entries("a") if e.kind is EntryKind.RESERVE]
    assert leases == [1_000, 2_000, 1_000]  # doubled within a second, back to normal after a pause


async def test_renewal_moves_the_expiry_of_every_lease_held():
    sut, _inner, clock = await funded(10_000)
    store = sut._leases
    await sut.reserve(hold_entry("a", 100, "r1", clock.now()))
    (lease_id,) = store.leases
    first = store.leases[lease_id].expires_at
    clock.advance(10)
    await sut.renew()
    assert store.leases[lease_id].expires_at == first + timedelta(seconds=10)
    assert sut.payer("r1") == lease_id


async def test_a_lease_returned_by_another_process_is_dropped_not_closed_twice():
    sut, inner, clock = await funded(10_000)
    store = sut._leases
    await sut.reserve(hold_entry("a", 100, "r1", clock.now()))
    (lease_id,) = store.leases
    clock.advance(31)  # nobody renewed it: another process returns it from the records
    store.spent[lease_id] = 0
    assert await store.reclaim(lease_id, clock.now()) == 1_000
    await sut.renew()
    await sut.append(settle_entry("a", 100, 70, "r1", clock.now()))
    await sut.sync()
    assert [e.idempotency_key for e in await inner.entries("a")].count(f"{lease_id}:close") == 1
    assert await inner.balance("a") == 10_000
    # A new hold takes a new lease.
    assert await sut.reserve(hold_entry("a", 100, "r2", clock.now())) is not None
    assert len(store.leases) == 2


async def test_an_unreachable_store_past_the_expiry_stops_new_holds_on_the_lease():
    sut, inner, clock = await funded(10_000)
    store = sut._leases
    await sut.reserve(hold_entry("a", 100, "r1", clock.now()))
    store.failing = True
    clock.advance(31)
    with pytest.raises(ConnectionError):
        await sut.renew()
    with pytest.raises(ConnectionError):  # the next hold needs a new lease, which needs the store
        await sut.reserve(hold_entry("a", 100, "r2", clock.now()))
    store.failing = False
    await sut.append(settle_entry("a", 100, 30, "r1", clock.now()))
    await sut.sync()
    assert await inner.balance("a") == 10_000 - 30


async def test_a_lease_whose_opening_reply_was_lost_still_goes_back():
    sut, inner, clock = await funded(10_000)
    store = sut._leases
    store.lose_open_replies = True
    with pytest.raises(ConnectionError):
        await sut.reserve(hold_entry("a", 100, "r1", clock.now()))
    assert await inner.balance("a") == 9_000  # taken in the store, unknown to the process
    store.lose_open_replies = False
    await sut.sync()
    assert await inner.balance("a") == 10_000
    assert await sut.reserve(hold_entry("a", 100, "r2", clock.now())) is not None


async def test_a_lease_whose_opening_failed_before_the_store_took_it_is_dropped():
    sut, inner, clock = await funded(10_000)
    store = sut._leases
    store.failing = True
    with pytest.raises(ConnectionError):
        await sut.reserve(hold_entry("a", 100, "r1", clock.now()))
    store.failing = False
    await sut.renew()
    await sut.sync()
    assert await inner.balance("a") == 10_000
    assert sut._open == {} and sut._unreturned == {}


async def test_a_close_cancelled_half_way_is_retried_not_forgotten():
    sut, inner, clock = await funded(10_000)
    store = sut._leases
    await sut.reserve(hold_entry("a", 100, "r1", clock.now()))
    await sut.append(settle_entry("a", 100, 40, "r1", clock.now()))
    entered, release = asyncio.Event(), asyncio.Event()
    close = store.close

    async def slow_close(*args):  # type: ignore[no-untyped-def]
        entered.set()
        await release.wait()
        return await close(*args)

    store.close = slow_close
    sweep = asyncio.create_task(sut.sync())
    await entered.wait()
    sweep.cancel()  # shutdown cancels the housekeeping sweep in the middle of a close
    with pytest.raises(asyncio.CancelledError):
        await sweep
    store.close = close
    await sut.sync()
    assert await inner.balance("a") == 10_000 - 40


class SlowLeaseStore(InMemoryLeaseStore):
    """Takes a loop turn or two to open a lease, as a database would, and counts the openings."""

    def __init__(self, inner: InMemoryCreditLedger) -> None:
        super().__init__(inner)
        self.openings = 0

    async def open(self, lease):  # type: ignore[no-untyped-def]
        self.openings += 1
        await asyncio.sleep(0.01)
        return await super().open(lease)


async def test_requests_that_find_the_lease_used_up_together_wait_for_one_new_lease():
    inner = InMemoryCreditLedger()
    store = SlowLeaseStore(inner)
    sut, inner, clock = await funded(1_000_000, inner=inner, store=store)

    held = await asyncio.gather(*(sut.reserve(hold_entry("a", 100, f"r{i}", clock.now())) for i in range(64)))

    assert all(h is not None for h in held)
    assert store.openings <= 4  # leases of 1,000, 2,000 and 4,000 (one taken early): not one each
    for i in range(64):
        await sut.append(settle_entry("a", 100, 10, f"r{i}", clock.now()))
    await sut.sync()
    assert await inner.balance("a") == 1_000_000 - 64 * 10


async def test_the_next_lease_is_taken_while_the_current_one_still_serves():
    inner = InMemoryCreditLedger()
    store = SlowLeaseStore(inner)
    sut, inner, clock = await funded(1_000_000, inner=inner, store=store)
    await sut.reserve(hold_entry("a", 100, "first", clock.now()))  # the first lease: 1,000
    assert store.openings == 1
    for i in range(7):  # down to 200 left, under a quarter: the next lease is being taken
        await sut.reserve(hold_entry("a", 100, f"r{i}", clock.now()))
    await asyncio.sleep(0.001)
    assert store.openings == 2
    started = asyncio.get_running_loop().time()
    await sut.reserve(hold_entry("a", 100, "served-by-the-old-lease", clock.now()))
    assert asyncio.get_running_loop().time() - started < 0.005  # did not wait for the new lease
    await asyncio.sleep(0.02)
    await sut.reserve(hold_entry("a", 100, "served-by-the-new-lease", clock.now()))
    reserves = [e for e in await inner.entries("a") if e.kind is EntryKind.RESERVE]
    assert len(reserves) == 2


async def test_with_too_little_left_for_an_early_lease_the_remainder_of_the_old_one_still_counts():
    sut, inner, clock = await funded(1_000)  # one lease takes it all
    for i in range(8):  # 800 held: an early lease is tried, and the balance outside the lease is 0
        assert await sut.reserve(hold_entry("a", 100, f"r{i}", clock.now())) is not None
    await asyncio.sleep(0)
    for i in range(8):
        await sut.append(settle_entry("a", 100, 100, f"r{i}", clock.now()))
    assert await sut.reserve(hold_entry("a", 200, "last", clock.now())) is not None  # exactly what is left
    assert await sut.reserve(hold_entry("a", 1, "one-too-many", clock.now())) is None
    await sut.append(settle_entry("a", 200, 200, "last", clock.now()))
    await sut.sync()
    assert await inner.balance("a") == 0


async def test_sync_waits_for_a_lease_being_taken():
    inner = InMemoryCreditLedger()
    store = SlowLeaseStore(inner)
    sut, inner, clock = await funded(1_000_000, inner=inner, store=store)
    for i in range(8):
        await sut.reserve(hold_entry("a", 100, f"r{i}", clock.now()))
        await sut.append(release_entry("a", 100, f"r{i}", clock.now()))
    await sut.reserve(hold_entry("a", 900, "big", clock.now()))  # 100 left: the next lease is on its way
    await sut.append(release_entry("a", 900, "big", clock.now()))

    await sut.sync()

    assert await inner.balance("a") == 1_000_000  # no lease opened after the sync returned them
    assert sut.open_leases == 0
