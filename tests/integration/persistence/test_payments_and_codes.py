"""The checkout store, the redemption-code store and the credit history on SQLite and Postgres.

Each store's contract runs against the SQL adapter and against its in-memory fake, so the fakes the
use-case tests rely on behave as the real thing does. Concurrency: a code of N uses admits exactly N
redemptions when many connection pools (standing in for gateway processes) race for it.
"""

import asyncio
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from application.ports.checkouts import CheckoutStore
from application.ports.redemption_codes import RedemptionCodeStore
from application.use_cases.redemption_codes import IssueRedemptionCodes, RedeemCode
from domain.accounts import Account
from domain.credits import grant_entry
from domain.errors import CodeNotRedeemable
from domain.payments import BUILTIN_PACKAGES, CheckoutStatus, new_checkout
from domain.redemption import RedeemRefusal, hash_code, issue_code
from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.checkouts import SqlCheckoutStore
from infrastructure.persistence.credit_history import SqlCreditHistory
from infrastructure.persistence.credits import SqlCreditLedger
from infrastructure.persistence.engine import create_engine, session_factory
from infrastructure.persistence.redemption_codes import SqlRedemptionCodes
from tests.fakes.memory import FakeClock
from tests.fakes.payments import InMemoryCheckoutStore, InMemoryRedemptionCodes

from .conftest import NOW, add_account

PEPPER = b"integration-pepper-0123456789"
CREDIT = 1_000_000


async def checkout_contract(store: CheckoutStore, account_id: str, other_id: str) -> None:
    older = new_checkout("cs_old", account_id, BUILTIN_PACKAGES[0], NOW)
    newer = new_checkout("cs_new", account_id, BUILTIN_PACKAGES[2], NOW + timedelta(minutes=1))
    for checkout in (older, newer, new_checkout("cs_other", other_id, BUILTIN_PACKAGES[1], NOW)):
        await store.add(checkout)
    assert await store.get("cs_new") == newer
    assert await store.get("cs_missing") is None
    assert [c.session_id for c in await store.for_account(account_id, 10)] == ["cs_new", "cs_old"]
    assert [c.session_id for c in await store.for_account(account_id, 1)] == ["cs_new"]

    later = NOW + timedelta(minutes=5)
    assert await store.close("cs_new", CheckoutStatus.PAID, later)
    assert not await store.close("cs_new", CheckoutStatus.MISMATCHED, later)  # closed once only
    assert not await store.close("cs_missing", CheckoutStatus.PAID, later)
    closed = await store.get("cs_new")
    assert closed is not None and (closed.status, closed.completed_at) == (CheckoutStatus.PAID, later)
    assert (closed.amount_cents, closed.currency, closed.credits_micros) == (2500, "usd", 27_500_000)


async def code_contract(store: RedemptionCodeStore, a: str, b: str, c: str) -> None:
    two = issue_code(CREDIT, 2, "ops", NOW, None, PEPPER)
    dated = issue_code(CREDIT, 5, "ops", NOW - timedelta(days=1), NOW + timedelta(hours=1), PEPPER)
    await store.add_many([two.code, dated.code])
    assert [x.id for x in await store.list_all()] == [two.code.id, dated.code.id]  # newest first
    assert await store.get(two.code.id) == two.code

    h = two.code.code_hash
    first = await store.redeem(h, a, NOW)
    assert first.refusal is None and first.code is not None and first.code.uses == 1
    again = await store.redeem(h, a, NOW)
    assert again.refusal is RedeemRefusal.ALREADY_REDEEMED and again.code is not None and again.code.uses == 1
    assert (await store.redeem(h, b, NOW)).refusal is None
    assert (await store.redeem(h, c, NOW)).refusal is RedeemRefusal.USED_UP
    assert (await store.redeem(h, a, NOW)).refusal is RedeemRefusal.ALREADY_REDEEMED  # said before used up
    assert (await store.redeem(hash_code("nope", PEPPER), a, NOW)).refusal is RedeemRefusal.UNKNOWN

    late = NOW + timedelta(hours=1)
    assert (await store.redeem(dated.code.code_hash, a, late)).refusal is RedeemRefusal.EXPIRED
    assert (await store.redeem(dated.code.code_hash, a, NOW)).refusal is None
    assert await store.revoke(dated.code.id, NOW)
    assert not await store.revoke(dated.code.id, NOW)
    assert not await store.revoke("code_missing", NOW)
    assert (await store.redeem(dated.code.code_hash, b, NOW)).refusal is RedeemRefusal.REVOKED
    revoked = await store.get(dated.code.id)
    assert revoked is not None and revoked.revoked_at == NOW and revoked.uses == 1


async def test_checkouts_and_history_sql(
    sessions: async_sessionmaker[AsyncSession], accounts: SqlAccountRepository
) -> None:
    one, two = await add_account(accounts), await add_account(accounts)
    await checkout_contract(SqlCheckoutStore(sessions), one.id, two.id)

    ledger = SqlCreditLedger(sessions)
    for n in range(5):
        await ledger.append(grant_entry(one.id, (n + 1) * CREDIT, f"h{n}", NOW + timedelta(seconds=n), f"n{n}"))
    history = SqlCreditHistory(sessions)
    assert [e.idempotency_key for e in await history.recent(one.id, 0, 2)] == ["h4", "h3"]
    assert [e.idempotency_key for e in await history.recent(one.id, 4, 2)] == ["h0"]
    newest = (await history.recent(one.id, 0, 1))[0]
    assert (newest.amount_micros, newest.note, newest.created_at) == (5 * CREDIT, "n4", NOW + timedelta(seconds=4))
    assert await history.recent(two.id, 0, 10) == []


async def test_checkouts_fake() -> None:
    await checkout_contract(InMemoryCheckoutStore(), "acct_a", "acct_b")


async def test_codes_sql(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, accounts: SqlAccountRepository
) -> None:
    a, b, c = [await add_account(accounts) for _ in range(3)]
    await code_contract(SqlRedemptionCodes(sessions), a.id, b.id, c.id)

    [issued] = await IssueRedemptionCodes(SqlRedemptionCodes(sessions), FakeClock(NOW), PEPPER).execute(
        CREDIT, created_by="ops"
    )
    async with engine.connect() as conn:
        dumped = repr((await conn.execute(text("SELECT * FROM redemption_codes"))).all())
    assert issued.code.code_hash in dumped  # the code itself is stored nowhere
    assert issued.secret not in dumped and issued.secret.replace("-", "") not in dumped


async def test_codes_fake() -> None:
    await code_contract(InMemoryRedemptionCodes(), "acct_a", "acct_b", "acct_c")


async def test_a_code_of_n_uses_admits_exactly_n_under_concurrency(
    database_url: str, engine: AsyncEngine, accounts: SqlAccountRepository
) -> None:
    """Four connection pools, as four gateway processes would hold, race 24 redemptions of a 5-use code
    (each account twice at once); the ledger grants exactly 5, one per account at most."""
    people = [await add_account(accounts) for _ in range(12)]
    clock = FakeClock(NOW)
    engines = [create_engine(database_url, pool_size=4) for _ in range(4)]
    try:
        pools = [session_factory(e) for e in engines]
        [issued] = await IssueRedemptionCodes(SqlRedemptionCodes(pools[0]), clock, PEPPER).execute(
            2 * CREDIT, max_uses=5, created_by="ops"
        )

        def redeemer(n: int) -> RedeemCode:
            pool = pools[n % len(pools)]
            ledger = SqlCreditLedger(pool)
            return RedeemCode(SqlRedemptionCodes(pool), ledger, ledger, clock, PEPPER)

        async def attempt(n: int, person: Account) -> str:
            try:
                await redeemer(n).execute(person.id, issued.secret)
                return "ok"
            except CodeNotRedeemable as refused:
                return refused.reason

        results = await asyncio.gather(*(attempt(n, p) for n, p in enumerate(people * 2)))
        assert results.count("ok") == 5
        assert set(results) <= {"ok", RedeemRefusal.USED_UP, RedeemRefusal.ALREADY_REDEEMED}
        ledger = SqlCreditLedger(pools[0])
        balances = [await ledger.balance(p.id) for p in people]
        assert sorted(balances, reverse=True)[:6] == [2 * CREDIT] * 5 + [0]
        code = await SqlRedemptionCodes(pools[0]).get(issued.code.id)
        assert code is not None and code.uses == 5
    finally:
        for e in engines:
            await e.dispose()


async def test_one_account_redeeming_at_once_is_granted_once(
    database_url: str, engine: AsyncEngine, account: Account
) -> None:
    clock = FakeClock(NOW)
    engines = [create_engine(database_url, pool_size=4) for _ in range(3)]
    try:
        pools = [session_factory(e) for e in engines]
        [issued] = await IssueRedemptionCodes(SqlRedemptionCodes(pools[0]), clock, PEPPER).execute(
            CREDIT, max_uses=100, created_by="ops"
        )

        async def attempt(n: int) -> bool:
            pool = pools[n % len(pools)]
            ledger = SqlCreditLedger(pool)
            try:
                await RedeemCode(SqlRedemptionCodes(pool), ledger, ledger, clock, PEPPER).execute(
                    account.id, issued.secret
                )
                return True
            except CodeNotRedeemable:
                return False

        assert sum(await asyncio.gather(*(attempt(n) for n in range(9)))) == 1
        assert await SqlCreditLedger(pools[0]).balance(account.id) == CREDIT
    finally:
        for e in engines:
            await e.dispose()
