from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.credits import EntryKind, LedgerEntry, credits_text, grant_entry, release_entry, reserve_entry, settle_entry
from domain.errors import InsufficientCredits, InvalidRequest
from interfaces.wording import describe
from tests.fakes.memory import InMemoryCreditLedger

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------------ entry rules


def test_grant_entry():
    sut = grant_entry("acct_1", 5_000_000, "welcome", NOW, note="hello")

    assert sut == LedgerEntry("acct_1", EntryKind.GRANT, 5_000_000, "welcome", NOW, "hello")
    assert grant_entry("acct_1", -300, "refund-fix", NOW).amount_micros == -300  # a negative grant takes


def test_a_grant_of_zero_is_refused():
    with pytest.raises(InvalidRequest) as caught:
        grant_entry("acct_1", 0, "k", NOW)
    assert caught.value.param == "amount"


def test_reserve_entry_takes_the_worst_case():
    sut = reserve_entry("acct_1", 700, 1_000, "req_1", NOW)

    assert sut == LedgerEntry("acct_1", EntryKind.RESERVE, -700, "req_1:reserve", NOW)
    assert reserve_entry("acct_1", 1_000, 1_000, "req_2", NOW).amount_micros == -1_000  # exactly covered


@pytest.mark.parametrize(
    ("amount", "balance", "available"),
    [(1_001, 1_000, 1_000), (1, 0, 0), (0, 0, 0), (5, -40, 0)],
)
def test_reserve_entry_refuses_what_the_balance_cannot_cover(amount, balance, available):
    with pytest.raises(InsufficientCredits) as caught:
        reserve_entry("acct_1", amount, balance, "req_1", NOW)

    assert caught.value.required == amount
    assert caught.value.available == available
    assert describe(caught.value) == (
        f"Insufficient credits. Required: {credits_text(amount)}, Available: {credits_text(available)}"
    )
    assert (caught.value.required, caught.value.available) == (amount, available)
    assert caught.value.code == "insufficient_credits"


def test_settle_returns_the_unused_part_or_takes_the_overrun():
    assert settle_entry("a", 1_000, 300, "req_1", NOW) == LedgerEntry("a", EntryKind.SETTLE, 700, "req_1:settle", NOW)
    assert settle_entry("a", 1_000, 1_250, "req_1", NOW).amount_micros == -250
    assert settle_entry("a", 0, 40, "req_1", NOW).amount_micros == -40


def test_release_gives_everything_back_under_the_settle_key():
    sut = release_entry("a", 1_000, "req_1", NOW)

    assert sut == LedgerEntry("a", EntryKind.RELEASE, 1_000, "req_1:settle", NOW)
    assert sut.idempotency_key == settle_entry("a", 1_000, 1, "req_1", NOW).idempotency_key


# ------------------------------------------------------------------------------ in-memory ledger


async def test_append_is_idempotent_by_key():
    sut = InMemoryCreditLedger()

    assert await sut.append(grant_entry("a", 500, "g1", NOW)) is True
    assert await sut.append(grant_entry("a", 500, "g1", NOW)) is False
    assert await sut.append(grant_entry("a", 999, "g1", NOW)) is False  # same key, other amount: still no

    assert await sut.balance("a") == 500
    assert [e.amount_micros for e in await sut.entries("a")] == [500]


async def test_balances_are_per_account():
    sut = InMemoryCreditLedger()
    await sut.append(grant_entry("a", 500, "g1", NOW))
    await sut.append(grant_entry("b", 70, "g2", NOW))

    assert await sut.balance("a") == 500
    assert await sut.balance("b") == 70
    assert await sut.balance("nobody") == 0
    assert await sut.entries("nobody") == []


async def test_reserve_holds_only_what_the_balance_covers():
    sut = InMemoryCreditLedger()
    await sut.append(grant_entry("a", 1_000, "g1", NOW))

    assert await sut.reserve(reserve_entry("a", 600, 1_000, "r1", NOW)) == 400
    # a racing request checked the same stale balance; the store refuses it and writes nothing
    assert await sut.reserve(reserve_entry("a", 600, 1_000, "r2", NOW)) is None
    assert await sut.balance("a") == 400
    assert [e.idempotency_key for e in await sut.entries("a")] == ["g1", "r1:reserve"]
    # exactly the balance is fine
    assert await sut.reserve(reserve_entry("a", 400, 400, "r3", NOW)) == 0


async def test_a_repeated_reservation_returns_the_balance_without_a_second_hold():
    sut = InMemoryCreditLedger()
    await sut.append(grant_entry("a", 1_000, "g1", NOW))
    entry = reserve_entry("a", 300, 1_000, "r1", NOW)

    assert await sut.reserve(entry) == 700
    assert await sut.reserve(entry) == 700
    assert await sut.balance("a") == 700


async def test_a_request_is_closed_once_settled_or_released():
    sut = InMemoryCreditLedger()
    await sut.append(grant_entry("a", 1_000, "g1", NOW))
    await sut.reserve(reserve_entry("a", 600, 1_000, "r1", NOW))

    assert await sut.append(settle_entry("a", 600, 250, "r1", NOW)) is True
    assert await sut.append(release_entry("a", 600, "r1", NOW)) is False
    assert await sut.append(settle_entry("a", 600, 250, "r1", NOW)) is False

    assert await sut.balance("a") == 750


async def test_reserve_accepts_only_reservations():
    sut = InMemoryCreditLedger()
    await sut.append(grant_entry("a", 1_000, "g1", NOW))

    with pytest.raises(ValueError, match="not a reservation"):
        await sut.reserve(grant_entry("a", -5, "g2", NOW))
    with pytest.raises(ValueError, match="not a reservation"):
        await sut.reserve(LedgerEntry("a", EntryKind.RESERVE, 5, "r:reserve", NOW))


# -------------------------------------------------------------------------------------- properties

ACCOUNTS = ("acct_a", "acct_b")


@dataclass(frozen=True)
class Grant:
    account: str
    amount: int
    key: str


@dataclass(frozen=True)
class Reserve:
    account: str
    amount: int
    request: str
    stale_by: int  # how much richer the balance looked when the domain checked it (a race)


@dataclass(frozen=True)
class Settle:
    account: str
    request: str
    actual: int


@dataclass(frozen=True)
class Release:
    account: str
    request: str


accounts = st.sampled_from(ACCOUNTS)
requests = st.sampled_from([f"req_{i}" for i in range(6)])  # few ids: repeats are common
operations = st.one_of(
    st.builds(
        Grant,
        accounts,
        st.integers(-2_000, 5_000).filter(bool),
        st.sampled_from([f"grant_{i}" for i in range(4)]),
    ),
    st.builds(Reserve, accounts, st.integers(1, 3_000), requests, st.sampled_from([0, 0, 0, 500, 5_000])),
    st.builds(Settle, accounts, requests, st.integers(0, 4_000)),
    st.builds(Release, accounts, requests),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(operations, max_size=40))
async def test_the_ledger_keeps_its_invariants_under_any_sequence(ops):
    sut = InMemoryCreditLedger()
    reserved: dict[tuple[str, str], int] = {}  # what each request holds, as the caller remembers it
    applied_keys: set[str] = set()

    for op in ops:
        before = {a: await sut.balance(a) for a in ACCOUNTS}
        if isinstance(op, Grant):
            entry = grant_entry(op.account, op.amount, op.key, NOW)
            written = await sut.append(entry)
            assert written is (op.key not in applied_keys)
        elif isinstance(op, Reserve):
            try:
                entry = reserve_entry(op.account, op.amount, before[op.account] + op.stale_by, op.request, NOW)
            except InsufficientCredits:
                continue
            result = await sut.reserve(entry)
            repeated = entry.idempotency_key in applied_keys
            covered = before[op.account] >= op.amount
            written = not repeated and covered
            if repeated:
                assert result == before[op.account]  # no second hold
            elif covered:
                assert result == before[op.account] - op.amount
                assert result >= 0  # a reservation never takes the balance below zero
                reserved[(op.account, op.request)] = op.amount
            else:
                assert result is None  # short: refused, nothing written
        elif isinstance(op, Settle):
            held = reserved.get((op.account, op.request), 0)
            entry = settle_entry(op.account, held, op.actual, op.request, NOW)
            written = await sut.append(entry)
            assert written is (entry.idempotency_key not in applied_keys)
        else:
            held = reserved.get((op.account, op.request), 0)
            entry = release_entry(op.account, held, op.request, NOW)
            written = await sut.append(entry)
            assert written is (entry.idempotency_key not in applied_keys)

        if written:
            applied_keys.add(entry.idempotency_key)
        after = {a: await sut.balance(a) for a in ACCOUNTS}
        moved = entry.amount_micros if written else 0
        assert after[entry.account_id] == before[entry.account_id] + moved
        for other in ACCOUNTS:
            if other != entry.account_id:
                assert after[other] == before[other]

        for account in ACCOUNTS:
            entries = await sut.entries(account)
            assert after[account] == sum(e.amount_micros for e in entries)
            assert all(e.account_id == account for e in entries)
        every_key = [e.idempotency_key for a in ACCOUNTS for e in await sut.entries(a)]
        assert len(every_key) == len(set(every_key))  # no key applied twice
        assert set(every_key) == applied_keys


@pytest.mark.parametrize(
    ("micros", "text"), [(0, "0"), (1_000_000, "1"), (250_000, "0.25"), (12, "0.000012"), (-1_500_000, "-1.5")]
)
def test_credits_read_as_dollars(micros: int, text: str) -> None:
    assert credits_text(micros) == text
