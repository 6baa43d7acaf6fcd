"""The admin console's stores on SQLite and Postgres: the audit log, the account directory, per-account
spend caps, and usage summed by account and by plan."""

from datetime import timedelta

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.ports.account_directory import AccountCriteria
from application.ports.usage import Grouping, UsageGroup
from domain.accounts import AccountStatus, Role, new_account
from domain.audit import Actor, AuditAction, AuditQuery, audit_entry
from domain.keys import issue_key
from domain.plans import Period, SpendCapOverride
from domain.usage import UsageTotals
from infrastructure.persistence.account_directory import SqlAccountDirectory
from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.api_keys import SqlApiKeyRepository
from infrastructure.persistence.audit_log import SqlAuditLog
from infrastructure.persistence.tables import usage_records
from infrastructure.persistence.usage import SqlUsageQueries
from tests.integration.persistence.conftest import NOW
from tests.integration.persistence.test_operator_queries import _record

ADMIN = Actor("root@example.com", "acct_root")


def _entry(action: AuditAction, target: str, minutes: int, *, actor: Actor = ADMIN, account: str | None = None):
    return audit_entry(
        actor,
        action,
        target,
        NOW + timedelta(minutes=minutes),
        before={"status": "active", "caps": {"day": 5, "week": None}},
        after={"status": "banned", "note": "naïve ünïcode"},
        reason="why",
        target_label="ada@example.com",
        account_id=account or target,
    )


async def test_the_audit_log_keeps_entries_as_written_and_filters_them(sessions: async_sessionmaker[AsyncSession]):
    sut = SqlAuditLog(sessions)
    written = [
        await sut.record(_entry(AuditAction.ACCOUNT_BAN, "acct_a", 0)),
        await sut.record(_entry(AuditAction.ACCOUNT_PLAN, "acct_b", 1, actor=Actor.cli("alice"))),
        await sut.record(_entry(AuditAction.KEY_REVOKE, "key_1", 2, actor=Actor.cli(), account="acct_a")),
        await sut.record(_entry(AuditAction.ACCOUNT_UNBAN, "acct_a", 3, actor=Actor("cli_user@example.com", "x"))),
    ]
    seqs = [e.seq for e in written]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4

    every = await sut.find(AuditQuery())
    assert every == list(reversed(written))  # what was written comes back exactly, newest first
    first = every[-1]
    assert (first.actor, first.at) == (ADMIN, NOW)
    assert dict(first.before) == {"status": "active", "caps": {"day": 5, "week": None}}
    assert first.after["note"] == "naïve ünïcode" and first.reason == "why" and first.target_label == "ada@example.com"

    async def found(**filters) -> list[int]:
        return [e.seq for e in await sut.find(AuditQuery(**filters))]

    s1, s2, s3, s4 = seqs
    assert await found(action=AuditAction.ACCOUNT_BAN) == [s1]
    assert await found(target="acct_a") == [s4, s3, s1]  # its key's revocation too
    assert await found(target="key_1") == [s3]
    assert await found(actor="cli") == [s3, s2]  # cli and cli:<user>, not an email starting with cli
    assert await found(actor="cli:alice") == [s2]
    assert await found(actor="cli%") == []  # matched literally
    assert await found(since=NOW + timedelta(minutes=1), until=NOW + timedelta(minutes=3)) == [s3, s2]
    assert await found(before_seq=s3, limit=1) == [s2]
    assert await found(target="acct_a", action=AuditAction.ACCOUNT_UNBAN, actor="cli_user@example.com") == [s4]


async def test_spend_caps_are_stored_read_with_the_key_and_cleared_to_null(
    sessions: async_sessionmaker[AsyncSession], accounts: SqlAccountRepository
):
    caps = (SpendCapOverride(Period.DAY, 5_000_000), SpendCapOverride(Period.MONTH, None))
    account = new_account("ada@example.com", "default", NOW).with_spend_caps(caps)
    await accounts.add(account)
    keys = SqlApiKeyRepository(sessions)
    issued = issue_key(account.id, "k", b"p", NOW, active_keys=0)
    await keys.add(issued.key)

    assert (await accounts.get(account.id)).spend_caps == caps
    _, owner = await keys.find_with_account(issued.key.secret_hash)
    assert owner.spend_caps == caps  # what Authenticate builds the plan from
    await accounts.save(account.with_spend_caps((SpendCapOverride(Period.WEEK, 1),)))
    assert (await accounts.get_by_email("ada@example.com")).spend_caps == (SpendCapOverride(Period.WEEK, 1),)

    await accounts.save(account.with_spend_caps(()))
    assert (await accounts.get(account.id)).spend_caps == ()
    async with sessions() as session:
        assert (await session.execute(text("SELECT spend_caps IS NULL FROM accounts"))).scalar_one()
        await session.execute(
            text("""UPDATE accounts SET spend_caps = '[{"period": "year"}, {"period": "day", "limit_micros": 7}]'""")
        )
        await session.commit()
    assert (await accounts.get(account.id)).spend_caps == (SpendCapOverride(Period.DAY, 7),)  # the bad one skipped


async def test_the_directory_searches_pages_counts_and_reads_many(
    sessions: async_sessionmaker[AsyncSession], accounts: SqlAccountRepository
):
    made = {}
    for email, plan, admin in [
        ("ada@corp.example", "gold", False),
        ("bob@corp.example", "default", True),
        ("carol_x@home.example", "default", False),
        ("dan@home.example", "gold", False),
    ]:
        made[email] = new_account(email, plan, NOW, admin=admin)
        await accounts.add(made[email])
    await accounts.save(made["dan@home.example"].banned())
    keys = SqlApiKeyRepository(sessions)
    live = issue_key(made["ada@corp.example"].id, "a", b"p", NOW, active_keys=0)
    expired = issue_key(made["ada@corp.example"].id, "b", b"p", NOW, active_keys=0, expires_at=NOW + timedelta(hours=1))
    revoked = issue_key(made["bob@corp.example"].id, "c", b"p", NOW, active_keys=0)
    for issued in (live, expired, revoked):
        await keys.add(issued.key)
    await keys.revoke(revoked.key.id, NOW)
    sut = SqlAccountDirectory(sessions)

    async def emails(criteria: AccountCriteria, **page) -> tuple[list[str], int]:
        found, total = await sut.search(criteria, limit=page.get("limit", 10), offset=page.get("offset", 0))
        return [a.email for a in found], total

    assert await emails(AccountCriteria("CORP")) == (["ada@corp.example", "bob@corp.example"], 2)
    assert await emails(AccountCriteria("_")) == (["carol_x@home.example"], 1)  # not a wildcard
    assert await emails(AccountCriteria("%")) == ([], 0)
    assert await emails(AccountCriteria(plan="gold", status=AccountStatus.BANNED)) == (["dan@home.example"], 1)
    assert await emails(AccountCriteria(role=Role.ADMIN)) == (["bob@corp.example"], 1)
    assert await emails(AccountCriteria(), limit=2, offset=2) == (["carol_x@home.example", "dan@home.example"], 4)

    many = await sut.get_many([made["ada@corp.example"].id, "acct_nope", made["dan@home.example"].id])
    assert {a.email for a in many.values()} == {"ada@corp.example", "dan@home.example"}
    assert many[made["dan@home.example"].id].is_banned

    tally = await sut.tally(NOW + timedelta(hours=2))  # the expiring key has expired by then
    assert (tally.accounts, tally.banned, tally.admins, tally.active_keys) == (4, 1, 1, 1)
    assert dict(tally.by_plan) == {"default": 2, "gold": 2}
    assert (await sut.tally(NOW)).active_keys == 2


async def test_usage_by_account_and_by_plan_and_the_top_groups(
    sessions: async_sessionmaker[AsyncSession], accounts: SqlAccountRepository
):
    ada = new_account("ada@example.com", "gold", NOW)
    bob = new_account("bob@example.com", "default", NOW)
    for account in (ada, bob):
        await accounts.add(account)
    rows = [
        _record(1, ada.id, "a/model", NOW, 100),
        _record(2, ada.id, "b/model", NOW, 200),
        _record(3, bob.id, "a/model", NOW, 400),
        _record(4, "acct_gone", "c/model", NOW + timedelta(hours=1), 50),
        _record(5, bob.id, "c/model", NOW + timedelta(hours=1), 50),
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(usage_records), rows)
    sut = SqlUsageQueries(sessions)

    assert await sut.summary(None, None, Grouping.ACCOUNT) == sorted(
        [
            UsageGroup(ada.id, UsageTotals(2, 20, 10, 150, 300)),
            UsageGroup(bob.id, UsageTotals(2, 20, 10, 225, 450)),
            UsageGroup("acct_gone", UsageTotals(1, 10, 5, 25, 50)),
        ],
        key=lambda g: g.key,
    )
    assert await sut.summary(None, None, Grouping.PLAN) == [
        UsageGroup("-", UsageTotals(1, 10, 5, 25, 50)),
        UsageGroup("default", UsageTotals(2, 20, 10, 225, 450)),
        UsageGroup("gold", UsageTotals(2, 20, 10, 150, 300)),
    ]
    assert await sut.summary(ada.id, None, Grouping.PLAN) == [UsageGroup("gold", UsageTotals(2, 20, 10, 150, 300))]
    top = await sut.summary(None, None, Grouping.ACCOUNT, top=2)
    assert [g.key for g in top] == [bob.id, ada.id]
    models = await sut.summary(None, NOW + timedelta(minutes=1), Grouping.MODEL, top=5)
    assert models == [UsageGroup("c/model", UsageTotals(2, 20, 10, 50, 100))]
    # a tie on charges goes to the group with more requests, then to the smaller key
    assert [g.key for g in await sut.summary(None, None, Grouping.MODEL, top=3)] == ["a/model", "b/model", "c/model"]
