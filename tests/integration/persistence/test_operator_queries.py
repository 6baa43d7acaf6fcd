"""The queries behind the operator's commands, on SQLite and Postgres."""

import asyncio
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.ports.usage import Grouping, UsageGroup
from domain.accounts import Account, AccountStatus
from domain.credits import EntryKind, WriteOutcome, deduct_entry, grant_entry
from domain.usage import UsageTotals
from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.credits import SqlCreditLedger
from infrastructure.persistence.tables import usage_records
from infrastructure.persistence.usage import SqlUsageQueries
from tests.integration.persistence.conftest import NOW, add_account


async def test_list_all_by_email_with_plan_and_status_filters(accounts: SqlAccountRepository):
    bob = await add_account(accounts, "bob@example.com")
    ada = await add_account(accounts, "ada@example.com")
    await accounts.save(bob.banned())
    carol = await add_account(accounts, "carol@example.com")
    await accounts.save(Account(carol.id, carol.email, carol.role, carol.status, "pro", carol.created_at))

    assert [a.email for a in await accounts.list_all()] == ["ada@example.com", "bob@example.com", "carol@example.com"]
    assert [a.id for a in await accounts.list_all(status=AccountStatus.BANNED)] == [bob.id]
    assert [a.id for a in await accounts.list_all(plan="pro")] == [carol.id]
    assert [a.id for a in await accounts.list_all("default", AccountStatus.ACTIVE)] == [ada.id]
    assert await accounts.list_all(plan="gone") == []
    assert (await accounts.list_all())[0] == ada


async def test_deduct_never_takes_a_balance_below_zero(sessions: async_sessionmaker[AsyncSession], account: Account):
    ledger = SqlCreditLedger(sessions)
    await ledger.append(grant_entry(account.id, 1_000, "g", NOW))

    assert await ledger.deduct(deduct_entry(account.id, 400, "d1", NOW, "refund")) == (WriteOutcome.WRITTEN, 600)
    assert await ledger.deduct(deduct_entry(account.id, 601, "d2", NOW, "too much")) == (WriteOutcome.SHORT, 600)
    assert await ledger.deduct(deduct_entry(account.id, 400, "d1", NOW, "refund")) == (WriteOutcome.DUPLICATE, 600)
    assert await ledger.deduct(deduct_entry(account.id, 600, "d3", NOW, "the rest")) == (WriteOutcome.WRITTEN, 0)
    assert await ledger.deduct(deduct_entry(account.id, 600, "d3", NOW, "the rest")) == (WriteOutcome.DUPLICATE, 0)

    entries = await ledger.entries(account.id)
    assert [(e.kind, e.amount_micros) for e in entries] == [
        (EntryKind.GRANT, 1_000),
        (EntryKind.DEDUCT, -400),
        (EntryKind.DEDUCT, -600),
    ]
    assert await ledger.balance(account.id) == sum(e.amount_micros for e in entries) == 0


async def test_concurrent_deductions_never_overdraw(sessions: async_sessionmaker[AsyncSession], account: Account):
    ledger = SqlCreditLedger(sessions)
    await ledger.append(grant_entry(account.id, 1_000, "g", NOW))

    outcomes = await asyncio.gather(
        *(ledger.deduct(deduct_entry(account.id, 300, f"d{i}", NOW, "race")) for i in range(8))
    )

    assert [o for o, _ in outcomes].count(WriteOutcome.WRITTEN) == 3
    assert await ledger.balance(account.id) == 100
    assert sum(e.amount_micros for e in await ledger.entries(account.id)) == 100


async def test_entry_by_key_and_many_balances(
    sessions: async_sessionmaker[AsyncSession], accounts: SqlAccountRepository
):
    ledger = SqlCreditLedger(sessions)
    ada = await add_account(accounts, "ada@example.com")
    bob = await add_account(accounts, "bob@example.com")
    await ledger.append(grant_entry(ada.id, 5_000, "invoice-1", NOW, "top-up"))

    found = await ledger.entry_by_key("invoice-1")
    assert (found.account_id, found.kind, found.amount_micros, found.note) == (ada.id, EntryKind.GRANT, 5_000, "top-up")
    assert await ledger.entry_by_key("invoice-2") is None
    assert await ledger.balances([ada.id, bob.id, "acct_nope"]) == {ada.id: 5_000, bob.id: 0}
    assert await ledger.balances([]) == {}


def _record(n: int, account_id: str, model: str, at: datetime, charged: int) -> dict[str, object]:
    return {
        "id": f"req-{n}",
        "account_id": account_id,
        "key_id": "key_1",
        "endpoint": "chat",
        "model": model,
        "outcome": "ok",
        "http_status": 200,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "cost_micros": charged // 2,
        "charged_micros": charged,
        "latency_ms": 4,
        "streamed": False,
        "created_at": at,
    }


async def test_usage_summary_in_total_by_model_and_by_utc_day(sessions: async_sessionmaker[AsyncSession]):
    late = datetime(2025, 3, 13, 23, 59, 59, tzinfo=UTC)
    # 01:30 on the 14th in UTC+02:00 is 23:30 on the 13th in UTC: days are UTC days.
    early_elsewhere = datetime(2025, 3, 14, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    rows = [
        _record(1, "acct_a", "a/model", late, 100),
        _record(2, "acct_a", "b/model", datetime(2025, 3, 14, 0, 0, 1, tzinfo=UTC), 200),
        _record(3, "acct_b", "a/model", early_elsewhere, 400),
        _record(4, "acct_b", "a/model", datetime(2025, 3, 15, 12, tzinfo=UTC), 800),
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(usage_records), rows)
    sut = SqlUsageQueries(sessions)

    assert await sut.summary(None, None, None) == [UsageGroup(None, UsageTotals(4, 40, 20, 750, 1_500))]
    assert await sut.summary("acct_a", None, None) == [UsageGroup(None, UsageTotals(2, 20, 10, 150, 300))]
    assert await sut.summary("acct_nope", None, None) == [UsageGroup(None, UsageTotals())]
    assert await sut.summary(None, None, Grouping.MODEL) == [
        UsageGroup("a/model", UsageTotals(3, 30, 15, 650, 1_300)),
        UsageGroup("b/model", UsageTotals(1, 10, 5, 100, 200)),
    ]
    assert await sut.summary(None, None, Grouping.DAY) == [
        UsageGroup("2025-03-13", UsageTotals(2, 20, 10, 250, 500)),
        UsageGroup("2025-03-14", UsageTotals(1, 10, 5, 100, 200)),
        UsageGroup("2025-03-15", UsageTotals(1, 10, 5, 400, 800)),
    ]
    since = datetime(2025, 3, 14, tzinfo=UTC)
    assert await sut.summary("acct_b", since, Grouping.DAY) == [
        UsageGroup("2025-03-15", UsageTotals(1, 10, 5, 400, 800))
    ]
    assert await sut.summary(None, datetime(2026, 1, 1, tzinfo=UTC), Grouping.MODEL) == []
