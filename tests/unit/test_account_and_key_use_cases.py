from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from application.access_caches import AccessCaches
from application.plan_book import PlanBook
from application.principal import Principal
from application.use_cases.accounts import CreateAccount, FindAccount, SetAccountBanned
from application.use_cases.api_keys import IssueApiKey, ListApiKeys, RevokeApiKey
from application.use_cases.credits import CreditChange, DeductCredits, GrantCredits
from application.use_cases.usage_stats import DescribeKey, GetAccountStats
from domain.accounts import AccountStatus, Role, new_account
from domain.credits import MAX_OPERATOR_MICROS, EntryKind, grant_entry
from domain.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound, TooManyKeys
from domain.keys import hash_secret, secret_matches
from domain.plans import DEFAULT_PLAN, Endpoint, Period, Plan, RatePolicy, SpendCap
from domain.usage import Outcome, UsageRecord, UsageTotals
from tests.fakes.memory import (
    FakeClock,
    InMemoryAccountRepository,
    InMemoryApiKeyRepository,
    InMemoryCreditLedger,
    InMemoryUsageRecorder,
    InMemoryUsageStore,
)

PEPPER = b"pepper-for-tests"
GOLD = Plan("gold", prepaid=True)


@dataclass
class World:
    clock: FakeClock
    accounts: InMemoryAccountRepository
    keys: InMemoryApiKeyRepository
    ledger: InMemoryCreditLedger
    usage: InMemoryUsageStore
    recorder: InMemoryUsageRecorder
    plans: PlanBook


@pytest.fixture
def world() -> World:
    clock = FakeClock()
    accounts = InMemoryAccountRepository()
    usage = InMemoryUsageStore()
    return World(
        clock=clock,
        accounts=accounts,
        keys=InMemoryApiKeyRepository(accounts),
        ledger=InMemoryCreditLedger(),
        usage=usage,
        recorder=InMemoryUsageRecorder(usage),
        plans=PlanBook([GOLD]),
    )


async def create(world: World, email: str = "ada@example.com", plan: str | None = None, **kw):
    return await CreateAccount(world.accounts, world.plans, world.clock).execute(email, plan, **kw)


def issuer(world: World, **kw) -> IssueApiKey:
    return IssueApiKey(world.accounts, world.keys, world.clock, PEPPER, **kw)


# ---------------------------------------------------------------------------------- CreateAccount


async def test_create_account_on_the_default_plan(world: World):
    sut = CreateAccount(world.accounts, world.plans, world.clock)

    account = await sut.execute("  Ada@Example.com ")

    assert account.plan == "default"
    assert account.email == "ada@example.com"
    assert account.role is Role.USER
    assert account.status is AccountStatus.ACTIVE
    assert account.created_at == world.clock.now()
    assert await world.accounts.get(account.id) == account
    assert await world.accounts.get_by_email("ada@example.com") == account


async def test_create_account_uses_the_configured_default(world: World):
    plans = PlanBook([GOLD], default="gold")

    account = await CreateAccount(world.accounts, plans, world.clock).execute("ada@example.com")

    assert account.plan == "gold"


async def test_create_account_on_a_named_plan_and_as_admin(world: World):
    account = await create(world, plan="gold", admin=True)

    assert account.plan == "gold"
    assert account.role is Role.ADMIN


async def test_create_account_on_an_unknown_plan_is_invalid(world: World):
    with pytest.raises(InvalidRequest, match="no plan named 'platinum'"):
        await create(world, plan="platinum")

    assert world.accounts.all == []


async def test_create_account_with_a_taken_email_conflicts(world: World):
    first = await create(world, "ada@example.com")

    with pytest.raises(Conflict):
        await create(world, "ADA@example.com ")

    assert world.accounts.all == [first]


async def test_create_account_with_a_bad_email_is_invalid(world: World):
    with pytest.raises(InvalidRequest):
        await create(world, "ada")


async def test_the_account_repository_itself_refuses_a_taken_email(world: World):
    await world.accounts.add(new_account("ada@example.com", "default", world.clock.now()))

    with pytest.raises(Conflict):
        await world.accounts.add(new_account("ada@example.com", "gold", world.clock.now()))


async def test_find_account_by_any_spelling_of_the_email(world: World):
    account = await create(world)
    sut = FindAccount(world.accounts)

    assert await sut.execute(" ADA@example.COM") == account
    with pytest.raises(NotFound):
        await sut.execute("bob@example.com")


# ----------------------------------------------------------------------------------- IssueApiKey


async def test_issue_api_key_shows_the_secret_once_and_stores_only_its_hash(world: World):
    account = await create(world)
    sut = issuer(world)

    issued = await sut.execute("ada@example.com", "laptop")

    stored = await world.keys.get(issued.key.id)
    assert issued.secret.startswith("sk-sluice-")
    assert stored == issued.key
    assert stored.secret_hash != issued.secret
    assert issued.secret not in stored.secret_hash
    assert stored.secret_hash == hash_secret(issued.secret, PEPPER)
    assert secret_matches(issued.secret, stored.secret_hash, PEPPER)
    assert not hasattr(stored, "secret")
    assert stored.account_id == account.id
    assert stored.name == "laptop"
    assert stored.created_at == world.clock.now()


async def test_issue_api_key_with_expiry_and_models(world: World):
    await create(world)
    expires = world.clock.now() + timedelta(days=7)

    issued = await issuer(world).execute("ada@example.com", "ci", expires_at=expires, allowed_models=frozenset({"a/b"}))

    assert issued.key.expires_at == expires
    assert issued.key.allowed_models == frozenset({"a/b"})


async def test_issue_api_key_for_an_unknown_account(world: World):
    with pytest.raises(NotFound):
        await issuer(world).execute("nobody@example.com", "laptop")


async def test_the_fifty_first_active_key_is_refused(world: World):
    await create(world)
    sut = issuer(world)
    for i in range(50):
        await sut.execute("ada@example.com", f"key {i}")

    with pytest.raises(TooManyKeys):
        await sut.execute("ada@example.com", "one too many")

    account = await world.accounts.get_by_email("ada@example.com")
    assert len(await world.keys.list_for_account(account.id)) == 50


async def test_revoked_and_expired_keys_do_not_count_against_the_cap(world: World):
    await create(world)
    sut = issuer(world, max_active=2)
    first = await sut.execute("ada@example.com", "one")
    await sut.execute("ada@example.com", "two", expires_at=world.clock.now() + timedelta(hours=1))
    with pytest.raises(TooManyKeys):
        await sut.execute("ada@example.com", "three")

    await RevokeApiKey(world.keys, world.clock, AccessCaches()).execute(first.key.id)
    await sut.execute("ada@example.com", "three")
    with pytest.raises(TooManyKeys):
        await sut.execute("ada@example.com", "four")

    world.clock.advance(3600)  # "two" expires
    await sut.execute("ada@example.com", "four")


async def test_the_cap_is_per_account(world: World):
    await create(world, "ada@example.com")
    await create(world, "bob@example.com")
    sut = issuer(world, max_active=1)

    await sut.execute("ada@example.com", "one")
    await sut.execute("bob@example.com", "one")


async def test_list_api_keys(world: World):
    await create(world)
    await create(world, "bob@example.com")
    first = await issuer(world).execute("ada@example.com", "one")
    world.clock.advance(1)
    second = await issuer(world).execute("ada@example.com", "two")
    await issuer(world).execute("bob@example.com", "bob's")

    keys = await ListApiKeys(world.accounts, world.keys).execute("ada@example.com")

    assert [k.id for k in keys] == [first.key.id, second.key.id]


# ---------------------------------------------------------------------------------- RevokeApiKey


async def test_revoke_api_key_says_whether_it_changed_anything(world: World):
    await create(world)
    issued = await issuer(world).execute("ada@example.com", "laptop")
    sut = RevokeApiKey(world.keys, world.clock, AccessCaches())

    key, changed = await sut.execute(issued.key.id)
    revoked_at = world.clock.now()
    world.clock.advance(60)
    again, changed_again = await sut.execute(issued.key.id)  # revoking again keeps the first time

    assert (changed, changed_again) == (True, False)
    assert key.revoked_at == again.revoked_at == revoked_at
    stored = await world.keys.get(issued.key.id)
    assert stored.revoked_at == revoked_at
    assert stored.is_active(world.clock.now()) is False


async def test_revoke_an_unknown_key_is_not_found(world: World):
    with pytest.raises(NotFound, match="no key with id key_nope"):
        await RevokeApiKey(world.keys, world.clock, AccessCaches()).execute("key_nope")


# ------------------------------------------------------------------------------ SetAccountBanned


async def test_ban_and_unban(world: World):
    account = await create(world, plan="gold")
    sut = SetAccountBanned(world.accounts, AccessCaches())

    banned, changed = await sut.execute("ADA@example.com", banned=True)

    assert (banned.is_banned, changed) == (True, True)
    assert (await world.accounts.get(account.id)).status is AccountStatus.BANNED
    assert (await world.accounts.get(account.id)).plan == "gold"
    assert (await sut.execute("ada@example.com", banned=True))[1] is False  # already banned

    unbanned, changed = await sut.execute("ada@example.com", banned=False)

    assert (unbanned.is_banned, changed) == (False, True)
    assert await world.accounts.get(account.id) == account
    assert (await sut.execute("ada@example.com", banned=False))[1] is False


async def test_ban_an_unknown_account_is_not_found(world: World):
    with pytest.raises(NotFound):
        await SetAccountBanned(world.accounts, AccessCaches()).execute("nobody@example.com", banned=True)


# ---------------------------------------------------------------------------------- GrantCredits


def granter(world: World) -> GrantCredits:
    return GrantCredits(world.accounts, world.ledger, world.clock, world.ledger)


async def test_grant_credits_once_per_idempotency_key(world: World):
    account = await create(world)
    sut = granter(world)

    assert await sut.execute("ada@example.com", 5_000_000, "invoice-1", note="top-up") == CreditChange(
        True, 5_000_000, 5_000_000
    )
    assert await sut.execute("ada@example.com", 5_000_000, "invoice-1") == CreditChange(False, 5_000_000, 5_000_000)
    assert await sut.execute("ada@example.com", 2_000_000, "invoice-2") == CreditChange(True, 2_000_000, 7_000_000)

    entries = await world.ledger.entries(account.id)
    assert [(e.kind, e.amount_micros, e.idempotency_key) for e in entries] == [
        (EntryKind.GRANT, 5_000_000, "invoice-1"),
        (EntryKind.GRANT, 2_000_000, "invoice-2"),
    ]
    assert entries[0].note == "top-up"
    assert entries[0].created_at == world.clock.now()


async def test_grant_credits_without_a_key_always_applies(world: World):
    await create(world)
    sut = granter(world)

    assert (await sut.execute("ada@example.com", 100)).balance_micros == 100
    assert (await sut.execute("ada@example.com", 100)).balance_micros == 200


@pytest.mark.parametrize("amount", [0, -500_000, MAX_OPERATOR_MICROS + 1])
async def test_grant_credits_refuses_nothing_negative_and_absurd_amounts(world: World, amount: int):
    await create(world)

    with pytest.raises(InvalidRequest, match="AMOUNT"):
        await granter(world).execute("ada@example.com", amount, "k")
    assert world.ledger.all_entries == []


async def test_grant_credits_refuses_unknown_accounts(world: World):
    with pytest.raises(NotFound):
        await granter(world).execute("bob@example.com", 100, "k")
    assert world.ledger.all_entries == []


async def test_an_idempotency_key_reused_for_another_change_is_refused_with_the_difference(world: World):
    await create(world)
    await create(world, "bob@example.com")
    sut = granter(world)
    await sut.execute("ada@example.com", 5_000_000, "invoice-1")

    with pytest.raises(Conflict, match=r"amount \$5.00, not \$3.00"):
        await sut.execute("ada@example.com", 3_000_000, "invoice-1")
    with pytest.raises(Conflict, match=r"account ada@example\.com"):
        await sut.execute("bob@example.com", 5_000_000, "invoice-1")
    with pytest.raises(Conflict, match="kind grant, not deduct"):
        await deducter(world).execute("ada@example.com", 5_000_000, "oops", "invoice-1")
    assert len(world.ledger.all_entries) == 1


# --------------------------------------------------------------------------------- DeductCredits


def deducter(world: World) -> DeductCredits:
    return DeductCredits(world.accounts, world.clock, world.ledger)


async def test_deduct_credits_takes_back_down_to_zero_and_never_below(world: World):
    account = await create(world)
    await granter(world).execute("ada@example.com", 2_500_000, "g")
    sut = deducter(world)

    assert await sut.execute("ada@example.com", 1_000_000, "refund", "d1") == CreditChange(True, 1_000_000, 1_500_000)
    with pytest.raises(InsufficientCredits, match=r"the balance is \$1.50") as refused:
        await sut.execute("ada@example.com", 1_500_001, "too much", "d2")
    assert (refused.value.required, refused.value.available) == (1_500_001, 1_500_000)
    assert (await sut.execute("ada@example.com", 1_500_000, "the rest", "d3")).balance_micros == 0

    entries = await world.ledger.entries(account.id)
    assert [(e.kind, e.amount_micros, e.note) for e in entries[1:]] == [
        (EntryKind.DEDUCT, -1_000_000, "refund"),
        (EntryKind.DEDUCT, -1_500_000, "the rest"),
    ]


async def test_deduct_credits_once_per_idempotency_key(world: World):
    await create(world)
    await granter(world).execute("ada@example.com", 2_000_000, "g")
    sut = deducter(world)

    assert (await sut.execute("ada@example.com", 500_000, "refund", "d1")).applied is True
    assert await sut.execute("ada@example.com", 500_000, "refund", "d1") == CreditChange(False, 500_000, 1_500_000)
    with pytest.raises(Conflict, match=r"amount \$0.50, not \$0.60"):
        await sut.execute("ada@example.com", 600_000, "refund", "d1")
    assert await world.ledger.balance((await world.accounts.list_all())[0].id) == 1_500_000


async def test_deduct_credits_needs_a_reason_and_a_positive_amount(world: World):
    await create(world)
    with pytest.raises(InvalidRequest, match="reason"):
        await deducter(world).execute("ada@example.com", 100, "  ")
    with pytest.raises(InvalidRequest, match="AMOUNT"):
        await deducter(world).execute("ada@example.com", -100, "why")


# ------------------------------------------------------------------------- DescribeKey and stats


def record(principal: Principal, charged: int, at: datetime, request_id: str, *, key_id: str | None = None):
    return UsageRecord(
        id=request_id,
        account_id=principal.account.id,
        key_id=key_id or principal.key.id,
        endpoint="chat",
        model="openai/gpt-4o-mini",
        outcome=Outcome.OK,
        http_status=200,
        prompt_tokens=10,
        completion_tokens=charged // 100,
        cost_micros=charged // 2,
        charged_micros=charged,
        latency_ms=5,
        streamed=False,
        created_at=at,
    )


async def principal_with_history(world: World, plan: Plan) -> Principal:
    """Records for one key and a sibling, still pending in the recorder (the use cases must flush)."""
    account = await create(world, plan=plan.name if plan.name in {"gold", "default"} else None)
    issued = await issuer(world).execute(account.email, "laptop")
    principal = Principal(key=issued.key, account=account, plan=plan)
    now = world.clock.now()  # Wednesday 2025-01-15 12:00 UTC
    world.recorder.record(record(principal, 100, now - timedelta(hours=2), "r1"))  # today
    world.recorder.record(record(principal, 200, datetime(2025, 1, 13, 8, tzinfo=now.tzinfo), "r2"))  # Monday
    world.recorder.record(record(principal, 400, datetime(2025, 1, 2, tzinfo=now.tzinfo), "r3"))  # this month
    world.recorder.record(record(principal, 800, datetime(2024, 12, 31, 23, tzinfo=now.tzinfo), "r4"))  # before
    world.recorder.record(record(principal, 1_600, now, "r5", key_id="key_sibling"))  # the account's other key
    return principal


async def test_describe_key_on_a_prepaid_plan(world: World):
    principal = await principal_with_history(world, GOLD)
    await granter(world).execute(principal.account.email, 10_000, "g")
    sut = DescribeKey(world.usage, world.recorder, world.ledger, world.clock)

    report = await sut.execute(principal)

    assert report.label == "laptop"
    assert report.usage_micros == 1_500  # this key, all time
    assert report.usage_daily_micros == 100
    assert report.usage_weekly_micros == 300
    assert report.usage_monthly_micros == 700
    assert report.limit_remaining_micros == 10_000
    assert report.limit_micros == 11_500
    assert report.limit_reset is None
    assert report.prepaid is True
    assert report.rate_limit is None
    assert world.recorder.pending == 0


async def test_describe_key_with_a_negative_balance_has_nothing_remaining(world: World):
    principal = await principal_with_history(world, GOLD)
    await world.ledger.append(grant_entry(principal.account.id, -50, "debt", world.clock.now()))

    report = await DescribeKey(world.usage, world.recorder, world.ledger, world.clock).execute(principal)

    assert report.limit_remaining_micros == 0
    assert report.limit_micros == 1_500


async def test_describe_key_reports_the_tightest_spend_cap(world: World):
    plan = Plan("capped", spend_caps=(SpendCap(Period.DAY, 5_000), SpendCap(Period.MONTH, 3_000)))
    principal = await principal_with_history(world, plan)

    report = await DescribeKey(world.usage, world.recorder, world.ledger, world.clock).execute(principal)

    # the month's charges on every key of the account: 100 + 200 + 400 + 1_600
    assert (report.limit_micros, report.limit_remaining_micros, report.limit_reset) == (3_000, 700, "monthly")
    assert report.prepaid is False


async def test_describe_key_with_an_exhausted_cap(world: World):
    plan = Plan("capped", spend_caps=(SpendCap(Period.DAY, 1_000),))
    principal = await principal_with_history(world, plan)

    report = await DescribeKey(world.usage, world.recorder, world.ledger, world.clock).execute(principal)

    assert (report.limit_micros, report.limit_remaining_micros, report.limit_reset) == (1_000, 0, "daily")


async def test_describe_key_on_the_default_plan(world: World):
    principal = await principal_with_history(world, DEFAULT_PLAN)

    report = await DescribeKey(world.usage, world.recorder, world.ledger, world.clock).execute(principal)

    assert (report.limit_micros, report.limit_remaining_micros, report.limit_reset) == (None, None, None)
    assert report.rate_limit is not None
    assert (report.rate_limit.name, report.rate_limit.limit, report.rate_limit.window_seconds) == ("chat", 150, 1800)
    assert report.usage_micros == 1_500


async def test_describe_key_falls_back_to_the_first_policy(world: World):
    only = RatePolicy("burst", frozenset({Endpoint.CHAT}), 10, 1)
    principal = await principal_with_history(world, Plan("odd", policies=(only,)))

    report = await DescribeKey(world.usage, world.recorder, world.ledger, world.clock).execute(principal)

    assert report.rate_limit is only


async def test_account_stats_see_records_not_yet_flushed(world: World):
    principal = await principal_with_history(world, DEFAULT_PLAN)
    assert await world.usage.totals_for_account(principal.account.id) == UsageTotals()

    totals = await GetAccountStats(world.usage, world.recorder, world.ledger).execute(principal)
    assert world.ledger.syncs == [principal.account.id]

    assert totals == UsageTotals(
        requests=5,
        prompt_tokens=50,
        completion_tokens=1 + 2 + 4 + 8 + 16,
        cost_micros=50 + 100 + 200 + 400 + 800,
        charged_micros=3_100,
    )
    assert totals.total_tokens == 50 + 31
