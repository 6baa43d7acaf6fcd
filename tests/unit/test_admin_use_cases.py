"""The audited admin use cases (before and after recorded, nothing for no change) and the console's reads."""

from dataclasses import dataclass
from datetime import timedelta

import pytest

from application.access_caches import AccessCaches
from application.plan_book import PlanBook
from application.ports.account_directory import AccountCriteria
from application.use_cases.account_limits import LimitSetting, SetAccountLimits
from application.use_cases.account_plan import ChangeAccountPlan
from application.use_cases.account_report import DescribeAccount
from application.use_cases.account_spend_caps import SetAccountSpendCaps
from application.use_cases.accounts import FindAccount, SetAccountBanned
from application.use_cases.admin.account_page import InspectAccount
from application.use_cases.admin.audited_accounts import (
    AuditedChangePlan,
    AuditedSetBanned,
    AuditedSetLimits,
    AuditedSetSpendCaps,
)
from application.use_cases.admin.audited_codes import AuditedIssueCodes, AuditedRevokeCode
from application.use_cases.admin.audited_credits import AuditedDeductCredits, AuditedGrantCredits
from application.use_cases.admin.audited_keys import AuditedRevokeKey
from application.use_cases.admin.overview import AdminOverview
from application.use_cases.admin.plans import DescribePlans
from application.use_cases.admin.search import SearchAccounts
from application.use_cases.api_keys import RevokeApiKey
from application.use_cases.audit import ListAuditEntries, RecordAuditEntry
from application.use_cases.credits import DeductCredits, GrantCredits
from application.use_cases.redemption_codes import IssueRedemptionCodes, RevokeRedemptionCode
from domain.accounts import Account, AccountStatus, Role, new_account
from domain.audit import Actor, AuditAction, AuditQuery
from domain.credits import grant_entry
from domain.errors import InsufficientCredits, InvalidRequest, NotFound
from domain.keys import issue_key
from domain.plans import Period, Plan, SpendCap, SpendCapOverride
from domain.usage import Outcome, UsageRecord
from tests.fakes.admin import InMemoryAccountDirectory, InMemoryAuditLog
from tests.fakes.memory import (
    CHEAP_MODEL,
    FakeClock,
    FakeModelCatalog,
    InMemoryAccountRepository,
    InMemoryApiKeyRepository,
    InMemoryCreditLedger,
    InMemoryLeaseStore,
    InMemoryUsageRecorder,
    InMemoryUsageStore,
)
from tests.fakes.payments import InMemoryRedemptionCodes

ADMIN = Actor("root@example.com", "acct_root")
CLI = Actor.cli("alice")
PLANS = PlanBook(
    [
        Plan("gold", spend_caps=(SpendCap(Period.DAY, 2_000_000),)),
        Plan("tiny", allowed_models=frozenset({"openai/gpt-4o-mini", "x/gone"})),
    ]
)


@dataclass
class World:
    clock: FakeClock
    accounts: InMemoryAccountRepository
    keys: InMemoryApiKeyRepository
    ledger: InMemoryCreditLedger
    usage: InMemoryUsageStore
    audit: InMemoryAuditLog
    record: RecordAuditEntry
    ada: Account

    def entries(self):
        return self.audit.entries


@pytest.fixture
async def w() -> World:
    clock = FakeClock()
    accounts = InMemoryAccountRepository()
    ada = new_account("ada@example.com", "default", clock.now())
    await accounts.add(ada)
    audit = InMemoryAuditLog()
    usage = InMemoryUsageStore(accounts=accounts)
    return World(
        clock, accounts, InMemoryApiKeyRepository(accounts), InMemoryCreditLedger(), usage, audit,
        RecordAuditEntry(audit, clock), ada,
    )  # fmt: skip


# ---- accounts --------------------------------------------------------------------------------------


async def test_a_ban_and_an_unban_are_each_one_entry_and_a_repeat_is_none(w: World):
    sut = AuditedSetBanned(SetAccountBanned(w.accounts, AccessCaches()), w.record)

    account, changed = await sut.execute(ADMIN, "ADA@example.com", True, reason="  spam,\n again ")
    await sut.execute(ADMIN, "ada@example.com", True)  # banned already: nothing to record
    w.clock.advance(60)
    await sut.execute(CLI, "ada@example.com", False)

    assert changed and account.is_banned
    ban, unban = w.entries()
    assert (ban.action, ban.actor, ban.target, ban.account_id, ban.target_label) == (
        AuditAction.ACCOUNT_BAN, ADMIN, w.ada.id, w.ada.id, "ada@example.com",
    )  # fmt: skip
    assert (dict(ban.before), dict(ban.after), ban.reason) == (
        {"status": "active"},
        {"status": "banned"},
        "spam, again",
    )
    assert ban.at == w.clock.now() - timedelta(seconds=60) and ban.seq == 1
    assert (unban.action, unban.actor.label, dict(unban.after)) == (
        AuditAction.ACCOUNT_UNBAN,
        "cli:alice",
        {"status": "active"},
    )


async def test_a_plan_change_records_both_plans_and_refuses_an_unknown_plan(w: World):
    sut = AuditedChangePlan(ChangeAccountPlan(w.accounts, PLANS), w.record)

    result = await sut.execute(ADMIN, "ada@example.com", "gold", reason="paid")
    again = await sut.execute(ADMIN, "ada@example.com", "gold")
    with pytest.raises(InvalidRequest, match="no plan named 'platinum'"):
        await sut.execute(ADMIN, "ada@example.com", "platinum")

    assert (result.changed, result.previous, result.account.plan, again.changed) == (True, "default", "gold", False)
    assert (await w.accounts.get(w.ada.id)).plan == "gold"
    [entry] = w.entries()
    assert (entry.action, dict(entry.before), dict(entry.after)) == (
        AuditAction.ACCOUNT_PLAN,
        {"plan": "default"},
        {"plan": "gold"},
    )


async def test_rate_limits_record_the_overrides_before_and_after(w: World):
    sut = AuditedSetLimits(SetAccountLimits(w.accounts, PLANS), w.record)

    await sut.execute(ADMIN, "ada@example.com", [LimitSetting("chat", 1000, 60)])
    await sut.execute(ADMIN, "ada@example.com")  # only reports
    await sut.execute(ADMIN, "ada@example.com", clear=True, reason="back to normal")

    set_, cleared = w.entries()
    chat = {
        "name": "chat",
        "requests": 1000,
        "window_seconds": 60,
        "subject": "account",
        "endpoints": ["chat", "embeddings"],
    }
    assert (dict(set_.before), dict(set_.after)) == ({"rate_limits": []}, {"rate_limits": [chat]})
    assert (dict(cleared.before), dict(cleared.after), cleared.reason) == (
        {"rate_limits": [chat]},
        {"rate_limits": []},
        "back to normal",
    )


async def test_spend_caps_record_each_period_and_lifted_ones_as_none(w: World):
    sut = AuditedSetSpendCaps(SetAccountSpendCaps(w.accounts, PLANS), w.record)

    await sut.execute(
        CLI, "ada@example.com", [SpendCapOverride(Period.DAY, 5_000_000), SpendCapOverride(Period.MONTH, None)]
    )
    await sut.execute(CLI, "ada@example.com", reset=[Period.MONTH])

    first, second = w.entries()
    assert first.action is AuditAction.ACCOUNT_SPEND_CAPS
    assert dict(first.before) == {"spend_caps": {}}
    assert dict(first.after) == {"spend_caps": {"day": 5_000_000, "month": None}}
    assert dict(second.after) == {"spend_caps": {"day": 5_000_000}}


async def test_a_reason_too_long_is_refused_before_anything_changes(w: World):
    sut = AuditedSetBanned(SetAccountBanned(w.accounts, AccessCaches()), w.record)
    with pytest.raises(InvalidRequest, match="at most 500"):
        await sut.execute(ADMIN, "ada@example.com", True, reason="x" * 501)
    assert not (await w.accounts.get(w.ada.id)).is_banned and w.entries() == []


async def test_an_entry_that_cannot_be_written_is_logged_whole_and_the_failure_shows(w: World, caplog):
    w.audit.failing = True
    sut = AuditedSetBanned(SetAccountBanned(w.accounts, AccessCaches()), w.record)

    with pytest.raises(ConnectionError):
        await sut.execute(ADMIN, "ada@example.com", True, reason="abuse")

    assert (await w.accounts.get(w.ada.id)).is_banned  # the change was made before
    assert "audit entry not written: account.ban by root@example.com" in caplog.text
    assert "'status': 'banned'" in caplog.text and "abuse" in caplog.text


# ---- credits ---------------------------------------------------------------------------------------


async def test_grants_and_deductions_name_their_ledger_entry_and_a_replay_records_nothing(w: World):
    find = FindAccount(w.accounts)
    grant = AuditedGrantCredits(GrantCredits(w.accounts, w.ledger, w.clock, w.ledger), find, w.record)
    deduct = AuditedDeductCredits(DeductCredits(w.accounts, w.clock, w.ledger), find, w.record)

    await grant.execute(ADMIN, "ada@example.com", 5_000_000, "welcome", idempotency_key="form-1")
    replay = await grant.execute(ADMIN, "ada@example.com", 5_000_000, "welcome", idempotency_key="form-1")
    await deduct.execute(CLI, "ada@example.com", 1_500_000, "refund of a mistake")
    with pytest.raises(InsufficientCredits):
        await deduct.execute(CLI, "ada@example.com", 9_000_000, "too much")
    with pytest.raises(InvalidRequest, match="needs a reason"):
        await deduct.execute(CLI, "ada@example.com", 1, "   ")

    assert replay.applied is False
    granted, deducted = w.entries()
    assert (granted.action, granted.reason, dict(granted.before)) == (
        AuditAction.CREDITS_GRANT,
        "welcome",
        {"balance_micros": 0},
    )
    assert dict(granted.after) == {"balance_micros": 5_000_000, "amount_micros": 5_000_000, "idempotency_key": "form-1"}
    assert [e.note for e in w.ledger.all_entries] == ["welcome", "refund of a mistake"]
    assert deducted.action is AuditAction.CREDITS_DEDUCT
    assert dict(deducted.before) == {"balance_micros": 5_000_000}
    key = deducted.after["idempotency_key"]
    assert key.startswith("deduct:") and w.ledger.all_entries[1].idempotency_key == key
    assert (deducted.after["balance_micros"], deducted.after["amount_micros"]) == (3_500_000, -1_500_000)


# ---- keys ------------------------------------------------------------------------------------------


async def test_revoking_any_accounts_key_records_its_owner(w: World):
    issued = issue_key(w.ada.id, "laptop", b"p", w.clock.now(), active_keys=0)
    await w.keys.add(issued.key)
    sut = AuditedRevokeKey(RevokeApiKey(w.keys, w.clock, AccessCaches()), w.record)

    key, changed = await sut.execute(ADMIN, f" {issued.key.id} ", reason="leaked")
    await sut.execute(ADMIN, issued.key.id)
    with pytest.raises(NotFound):
        await sut.execute(ADMIN, "key_nope")

    assert changed and key.revoked_at == w.clock.now()
    [entry] = w.entries()
    assert (entry.action, entry.target, entry.account_id) == (AuditAction.KEY_REVOKE, issued.key.id, w.ada.id)
    assert entry.target_label == f"laptop ({issued.key.prefix}...)"
    assert (dict(entry.before), dict(entry.after)) == (
        {"revoked_at": None},
        {"revoked_at": w.clock.now().isoformat(timespec="seconds")},
    )


# ---- the reader ------------------------------------------------------------------------------------


async def _history(w: World) -> None:
    bob = new_account("bob@example.com", "default", w.clock.now())
    await w.accounts.add(bob)
    ban = AuditedSetBanned(SetAccountBanned(w.accounts, AccessCaches()), w.record)
    plan = AuditedChangePlan(ChangeAccountPlan(w.accounts, PLANS), w.record)
    revoke = AuditedRevokeKey(RevokeApiKey(w.keys, w.clock, AccessCaches()), w.record)
    issued = issue_key(w.ada.id, "laptop", b"p", w.clock.now(), active_keys=0)
    await w.keys.add(issued.key)
    for step in (
        ban.execute(ADMIN, "ada@example.com", True),  # seq 1
        ban.execute(CLI, "bob@example.com", True),  # 2
        plan.execute(ADMIN, "bob@example.com", "gold"),  # 3
        revoke.execute(Actor.cli(), issued.key.id),  # 4
        ban.execute(ADMIN, "ada@example.com", False),  # 5
    ):
        await step
        w.clock.advance(3600)


async def test_the_reader_filters_newest_first_and_pages(w: World):
    await _history(w)
    sut = ListAuditEntries(w.audit, w.accounts)

    def seqs(page):
        return [e.seq for e in page.entries]

    assert seqs(await sut.execute(AuditQuery())) == [5, 4, 3, 2, 1]
    assert seqs(await sut.execute(AuditQuery(action=AuditAction.ACCOUNT_BAN))) == [2, 1]
    assert seqs(await sut.execute(AuditQuery(target="ADA@example.com"))) == [5, 4, 1]  # the account and its key
    assert seqs(await sut.execute(AuditQuery(target=w.ada.id, action=AuditAction.KEY_REVOKE))) == [4]
    assert seqs(await sut.execute(AuditQuery(target="nobody@example.com"))) == []
    assert seqs(await sut.execute(AuditQuery(actor="cli"))) == [4, 2]
    assert seqs(await sut.execute(AuditQuery(actor="cli:alice"))) == [2]
    assert seqs(await sut.execute(AuditQuery(actor="Root@Example.com"))) == [5, 3, 1]
    start = w.clock.now() - timedelta(hours=5)
    window = AuditQuery(since=start + timedelta(hours=1), until=start + timedelta(hours=3))
    assert seqs(await sut.execute(window)) == [3, 2]

    first = await sut.execute(AuditQuery(limit=2))
    second = await sut.execute(AuditQuery(limit=2, before_seq=first.next_before))
    last = await sut.execute(AuditQuery(limit=2, before_seq=second.next_before))
    assert (seqs(first), first.next_before, seqs(second), seqs(last), last.next_before) == (
        [5, 4],
        4,
        [3, 2],
        [1],
        None,
    )
    with pytest.raises(InvalidRequest):
        await sut.execute(AuditQuery(limit=201))


# ---- the console's reads ---------------------------------------------------------------------------


async def test_search_by_email_substring_plan_status_and_role_with_balances(w: World):
    for email, plan, admin in (("bob@corp.example", "gold", False), ("carol@corp.example", "default", True)):
        await w.accounts.add(new_account(email, plan, w.clock.now(), admin=admin))
    bob = await w.accounts.get_by_email("bob@corp.example")
    await w.accounts.save(bob.banned())
    await w.ledger.append(grant_entry(bob.id, 7, "g", w.clock.now()))
    sut = SearchAccounts(InMemoryAccountDirectory(w.accounts), w.ledger)

    corp = await sut.execute(AccountCriteria(email_contains=" CORP. "))
    assert [(a.email, balance) for a, balance in corp.rows] == [("bob@corp.example", 7), ("carol@corp.example", 0)]
    assert (corp.total, corp.pages) == (2, 1)
    assert [a.email for a, _ in (await sut.execute(AccountCriteria(status=AccountStatus.BANNED))).rows] == [
        "bob@corp.example"
    ]
    assert [a.email for a, _ in (await sut.execute(AccountCriteria(plan="default", role=Role.ADMIN))).rows] == [
        "carol@corp.example"
    ]
    paged = await sut.execute(AccountCriteria(), page=2, per_page=2)
    assert ([a.email for a, _ in paged.rows], paged.total, paged.pages) == (["carol@corp.example"], 3, 2)
    with pytest.raises(InvalidRequest):
        await sut.execute(AccountCriteria(), per_page=0)


def _record(account: Account, model: str, charged: int, n: int, w: World) -> UsageRecord:
    return UsageRecord(
        f"r{n}", account.id, "key_x", "chat", model, Outcome.OK, 200, 10, 5, charged, charged, 7, False, w.clock.now(),
    )  # fmt: skip


async def test_the_overview_counts_and_sums_usage_by_model_plan_and_account(w: World):
    bob = new_account("bob@example.com", "gold", w.clock.now(), admin=True)
    await w.accounts.add(bob)
    await w.keys.add(issue_key(bob.id, "k", b"p", w.clock.now(), active_keys=0).key)
    recorder = InMemoryUsageRecorder(w.usage)
    for n, (account, model, charged) in enumerate(
        [(w.ada, "a/one", 100), (w.ada, "a/two", 50), (bob, "a/one", 500), (bob, "a/one", 1)]
    ):
        recorder.record(_record(account, model, charged, n, w))  # flushed by the overview itself
    recorder.record(
        _record(
            Account("acct_gone", "gone@example.com", Role.USER, AccountStatus.ACTIVE, "x", w.clock.now()),
            "a/two",
            5,
            9,
            w,
        )
    )
    sut = AdminOverview(
        InMemoryAccountDirectory(w.accounts, w.keys), w.usage, recorder, InMemoryLeaseStore(w.ledger), w.clock
    )

    view = await sut.execute(top=2)

    assert (view.tally.accounts, view.tally.admins, view.tally.banned, view.tally.active_keys) == (2, 1, 0, 1)
    assert dict(view.tally.by_plan) == {"default": 1, "gold": 1}
    assert (view.total.requests, view.total.charged_micros) == (5, 656)
    assert [(g.key, g.totals.requests, g.totals.charged_micros) for g in view.by_model] == [
        ("a/one", 3, 601),
        ("a/two", 2, 55),
    ]
    assert [(g.key, g.totals.charged_micros) for g in view.by_plan] == [("gold", 501), ("default", 150), ("-", 5)]
    assert [(u.account.email, u.totals.charged_micros) for u in view.by_account] == [
        ("bob@example.com", 501),
        ("ada@example.com", 150),
    ]
    later = await sut.execute(w.clock.now() + timedelta(seconds=1))
    assert later.total.requests == 0 and later.by_account == []


async def test_plans_with_their_models_from_the_catalogue_and_the_gateways_list():
    catalog = FakeModelCatalog([CHEAP_MODEL])

    views = {v.plan.name: v for v in await DescribePlans(PLANS, catalog, None).execute()}
    assert views["default"].default and views["default"].models is None  # every upstream model
    tiny = views["tiny"].models
    assert [(m.id, m.info, m.served) for m in tiny] == [
        ("openai/gpt-4o-mini", CHEAP_MODEL, True),
        ("x/gone", None, True),
    ]

    limited = {v.plan.name: v for v in await DescribePlans(PLANS, catalog, frozenset({"openai/gpt-4o-mini"})).execute()}
    assert [m.id for m in limited["default"].models] == ["openai/gpt-4o-mini"]
    assert [(m.id, m.served) for m in limited["tiny"].models] == [("openai/gpt-4o-mini", True), ("x/gone", False)]


async def test_inspecting_an_account_gathers_its_report_limits_caps_and_audit_entries(w: World):
    await _history(w)
    await AuditedSetSpendCaps(SetAccountSpendCaps(w.accounts, PLANS), w.record).execute(
        ADMIN, "ada@example.com", [SpendCapOverride(Period.WEEK, 9_000_000)]
    )
    describe = DescribeAccount(w.accounts, w.keys, w.ledger, w.usage, PLANS, w.clock)
    sut = InspectAccount(w.accounts, describe, PLANS, w.audit)

    seen = await sut.execute(w.ada.id, recent=3)

    assert seen.report.account.email == "ada@example.com" and len(seen.report.keys) == 1
    assert seen.report.spend_caps == (SpendCap(Period.WEEK, 9_000_000),)
    assert (seen.cap_source(Period.WEEK), seen.cap_source(Period.DAY)) == ("account", "plan")
    assert [p.name for p in seen.limits] == ["chat", "moderations", "images"]
    assert {seen.limit_source(p) for p in seen.limits} == {"plan"}
    assert [e.seq for e in seen.recent] == [6, 5, 4]
    with pytest.raises(NotFound):
        await sut.execute("acct_nope")


# ---- redemption codes ------------------------------------------------------------------------------


async def test_issuing_codes_records_their_ids_never_the_codes_and_a_revocation_once(w: World):
    codes = InMemoryRedemptionCodes()
    issue = AuditedIssueCodes(IssueRedemptionCodes(codes, w.clock, b"p"), w.record)
    revoke = AuditedRevokeCode(RevokeRedemptionCode(codes, w.clock), w.record)

    issued = await issue.execute(ADMIN, 3_000_000, max_uses=2, count=2, reason="club night")
    await revoke.execute(ADMIN, issued[0].code.id)
    await revoke.execute(ADMIN, issued[0].code.id)  # revoked already: nothing to record

    assert {i.code.created_by for i in issued} == {ADMIN.label}
    made, revoked = w.entries()
    assert (made.action, made.target, made.reason) == (AuditAction.CODES_ISSUE, "2 codes", "club night")
    assert dict(made.after) == {
        "ids": [i.code.id for i in issued], "credits_micros": 3_000_000, "max_uses": 2, "expires_at": None,
    }  # fmt: skip
    assert not any(i.secret in repr(made) for i in issued)
    assert (revoked.action, revoked.target) == (AuditAction.CODE_REVOKE, issued[0].code.id)
