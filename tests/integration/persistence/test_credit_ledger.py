import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.accounts import Account
from domain.credits import EntryKind, LedgerEntry, grant_entry, release_entry, settle_entry
from infrastructure.persistence.credits import SqlCreditLedger

from .conftest import NOW


@pytest.fixture
def ledger(sessions: async_sessionmaker[AsyncSession]) -> SqlCreditLedger:
    return SqlCreditLedger(sessions)


def _hold(account: Account, amount: int, request_id: str) -> LedgerEntry:
    # The store alone decides whether the balance covers a hold (domain.credits.covers), atomically.
    return LedgerEntry(account.id, EntryKind.RESERVE, -amount, f"{request_id}:reserve", NOW)


async def _assert_balance_is_sum(ledger: SqlCreditLedger, account: Account) -> int:
    balance = await ledger.balance(account.id)
    assert balance == sum(e.amount_micros for e in await ledger.entries(account.id))
    return balance


async def test_append_is_idempotent_per_key(ledger: SqlCreditLedger, account: Account) -> None:
    assert await ledger.append(grant_entry(account.id, 5_000, "grant-1", NOW, "welcome"))
    assert not await ledger.append(grant_entry(account.id, 5_000, "grant-1", NOW))
    assert await ledger.append(grant_entry(account.id, -1_000, "grant-2", NOW))
    assert await _assert_balance_is_sum(ledger, account) == 4_000
    entries = await ledger.entries(account.id)
    assert [(e.kind, e.amount_micros, e.note) for e in entries] == [
        (EntryKind.GRANT, 5_000, "welcome"),
        (EntryKind.GRANT, -1_000, ""),
    ]
    assert entries[0].created_at == NOW


async def test_a_new_or_unknown_account_has_nothing(ledger: SqlCreditLedger, account: Account) -> None:
    assert await ledger.balance(account.id) == 0
    assert await ledger.balance("acct_missing") == 0
    assert await ledger.entries(account.id) == []


async def test_reserve_then_settle_or_release(ledger: SqlCreditLedger, account: Account) -> None:
    await ledger.append(grant_entry(account.id, 1_000, "g", NOW))
    assert await ledger.reserve(_hold(account, 300, "req_a")) == 700
    assert await ledger.reserve(_hold(account, 200, "req_b")) == 500
    assert await ledger.append(settle_entry(account.id, 300, 120, "req_a", NOW))
    assert await ledger.append(release_entry(account.id, 200, "req_b", NOW))
    # A request is closed once: the release of a settled request is a no-op.
    assert not await ledger.append(release_entry(account.id, 300, "req_a", NOW))
    assert await _assert_balance_is_sum(ledger, account) == 880


async def test_a_short_or_empty_balance_reserves_nothing(ledger: SqlCreditLedger, account: Account) -> None:
    assert await ledger.reserve(_hold(account, 0, "req_free")) is None  # an empty balance, always
    await ledger.append(grant_entry(account.id, 100, "g", NOW))
    assert await ledger.reserve(_hold(account, 101, "req_big")) is None
    assert await ledger.reserve(_hold(account, 100, "req_all")) == 0
    assert await ledger.reserve(_hold(account, 1, "req_more")) is None
    assert await ledger.reserve(_hold(account, 1, "acct_missing")) is None
    assert [e.idempotency_key for e in await ledger.entries(account.id)] == ["g", "req_all:reserve"]
    assert await _assert_balance_is_sum(ledger, account) == 0


async def test_a_repeated_reservation_holds_once(ledger: SqlCreditLedger, account: Account) -> None:
    await ledger.append(grant_entry(account.id, 1_000, "g", NOW))
    assert await ledger.reserve(_hold(account, 400, "req_a")) == 600
    assert await ledger.reserve(_hold(account, 400, "req_a")) == 600
    # Also when what is left could not cover it again: the hold exists, so it is not "short".
    assert await ledger.reserve(_hold(account, 400, "req_b")) == 200
    assert await ledger.reserve(_hold(account, 400, "req_b")) == 200
    assert await _assert_balance_is_sum(ledger, account) == 200


async def test_concurrent_reservations_never_overdraw(ledger: SqlCreditLedger, account: Account) -> None:
    await ledger.append(grant_entry(account.id, 1_000, "g", NOW))
    results = await asyncio.gather(*(ledger.reserve(_hold(account, 30, f"req_{i}")) for i in range(60)))
    granted = [r for r in results if r is not None]
    assert len(granted) == 33  # 33 * 30 = 990 fits, the 34th does not
    assert min(granted) == 10
    assert await _assert_balance_is_sum(ledger, account) == 10


async def test_concurrent_reservations_stop_at_exactly_zero(ledger: SqlCreditLedger, account: Account) -> None:
    await ledger.append(grant_entry(account.id, 1_000, "g", NOW))
    holds = [ledger.reserve(_hold(account, 100, f"req_{i}")) for i in range(25)]
    # Retries of the same requests race the originals and must not hold twice.
    retries = [ledger.reserve(_hold(account, 100, f"req_{i}")) for i in range(25)]
    results = await asyncio.gather(*holds, *retries)
    assert all(r is None or r >= 0 for r in results)
    assert await _assert_balance_is_sum(ledger, account) == 0
    assert len(await ledger.entries(account.id)) == 1 + 10


async def test_concurrent_appends_with_one_key_apply_once(ledger: SqlCreditLedger, account: Account) -> None:
    results = await asyncio.gather(*(ledger.append(grant_entry(account.id, 7, "same", NOW)) for _ in range(20)))
    assert results.count(True) == 1
    assert await _assert_balance_is_sum(ledger, account) == 7
