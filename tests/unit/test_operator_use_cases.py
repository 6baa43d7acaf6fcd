from datetime import UTC, datetime, timedelta

from application.access_caches import AccessCaches
from application.plan_book import PlanBook
from application.ports.usage import Grouping, UsageGroup
from application.use_cases.account_report import DescribeAccount
from application.use_cases.accounts import CreateAccount, ListAccounts, SetAccountBanned
from application.use_cases.api_keys import IssueApiKey
from application.use_cases.usage_summary import SummarizeUsage
from domain.credits import grant_entry
from domain.plans import Period, Plan, SpendCap
from domain.usage import Outcome, UsageRecord, UsageTotals
from tests.fakes.memory import (
    FakeClock,
    InMemoryAccountRepository,
    InMemoryApiKeyRepository,
    InMemoryCreditLedger,
    InMemoryUsageStore,
)

CAPPED = Plan("capped", spend_caps=(SpendCap(Period.DAY, 2_000_000),))


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()  # Wednesday 2025-01-15 12:00 UTC
        self.accounts = InMemoryAccountRepository()
        self.keys = InMemoryApiKeyRepository(self.accounts)
        self.ledger = InMemoryCreditLedger()
        self.usage = InMemoryUsageStore()
        self.plans = PlanBook([CAPPED])

    async def account(self, email: str, plan: str | None = None, balance: int = 0):  # type: ignore[no-untyped-def]
        account = await CreateAccount(self.accounts, self.plans, self.clock).execute(email, plan)
        if balance:
            await self.ledger.append(grant_entry(account.id, balance, f"g-{email}", self.clock.now()))
        return account

    def used(self, account_id: str, model: str, charged: int, at: datetime) -> None:
        self.usage.write(
            UsageRecord(
                id=f"r{len(self.usage.records)}",
                account_id=account_id,
                key_id="key_1",
                endpoint="chat",
                model=model,
                outcome=Outcome.OK,
                http_status=200,
                prompt_tokens=10,
                completion_tokens=5,
                cost_micros=charged // 2,
                charged_micros=charged,
                latency_ms=3,
                streamed=False,
                created_at=at,
            )
        )


async def test_list_accounts_by_email_with_balances_and_filters():
    world = World()
    bob = await world.account("bob@example.com", "capped")
    ada = await world.account("ada@example.com", balance=1_500_000)
    await SetAccountBanned(world.accounts, AccessCaches()).execute("bob@example.com", True)
    sut = ListAccounts(world.accounts, world.ledger)

    everyone = await sut.execute()
    assert [(a.email, balance) for a, balance in everyone] == [("ada@example.com", 1_500_000), ("bob@example.com", 0)]
    assert [a.id for a, _ in await sut.execute("capped")] == [bob.id]
    assert [a.id for a, _ in await sut.execute(banned=True)] == [bob.id]
    assert [a.id for a, _ in await sut.execute("default", banned=False)] == [ada.id]
    assert await sut.execute("capped", banned=False) != []
    assert await sut.execute("nope") == []


async def test_describe_account_shows_balance_keys_spend_per_period_and_caps():
    world = World()
    ada = await world.account("ada@example.com", "capped", balance=700)
    issued = await IssueApiKey(world.accounts, world.keys, world.clock, b"pepper").execute(ada.email, "laptop")
    now = world.clock.now()
    world.used(ada.id, "m", 100, now - timedelta(hours=1))  # today
    world.used(ada.id, "m", 200, datetime(2025, 1, 13, 9, tzinfo=UTC))  # Monday: this week
    world.used(ada.id, "m", 400, datetime(2025, 1, 1, tzinfo=UTC))  # this month
    world.used(ada.id, "m", 800, datetime(2024, 12, 31, 23, tzinfo=UTC))  # before
    other = await world.account("bob@example.com")
    world.used(other.id, "m", 1_600, now)

    report = await DescribeAccount(
        world.accounts, world.keys, world.ledger, world.usage, world.plans, world.clock
    ).execute("ADA@example.com")

    assert report.account == ada
    assert report.balance_micros == 700
    assert [k.id for k in report.keys] == [issued.key.id]
    assert report.spent_micros == {Period.DAY: 100, Period.WEEK: 300, Period.MONTH: 700}
    assert report.spend_caps == CAPPED.spend_caps
    assert report.plan_configured is True


async def test_describe_account_on_a_plan_gone_from_the_configuration():
    world = World()
    ada = await world.account("ada@example.com", "capped")
    world.plans = PlanBook()  # the operator removed the plan

    report = await DescribeAccount(
        world.accounts, world.keys, world.ledger, world.usage, world.plans, world.clock
    ).execute(ada.email)

    assert (report.plan_configured, report.spend_caps) == (False, ())


async def test_summarize_usage_for_one_account_or_all_in_total_or_grouped():
    world = World()
    ada = await world.account("ada@example.com")
    bob = await world.account("bob@example.com")
    world.used(ada.id, "a/model", 100, datetime(2025, 1, 14, 23, 59, tzinfo=UTC))
    world.used(ada.id, "b/model", 200, datetime(2025, 1, 15, 0, 1, tzinfo=UTC))
    world.used(bob.id, "a/model", 400, datetime(2025, 1, 15, 8, tzinfo=UTC))
    sut = SummarizeUsage(world.accounts, world.usage)

    assert await sut.execute() == [UsageGroup(None, UsageTotals(3, 30, 15, 350, 700))]
    assert await sut.execute("ada@example.com") == [UsageGroup(None, UsageTotals(2, 20, 10, 150, 300))]
    assert await sut.execute(by=Grouping.MODEL) == [
        UsageGroup("a/model", UsageTotals(2, 20, 10, 250, 500)),
        UsageGroup("b/model", UsageTotals(1, 10, 5, 100, 200)),
    ]
    assert await sut.execute("ada@example.com", by=Grouping.DAY) == [
        UsageGroup("2025-01-14", UsageTotals(1, 10, 5, 50, 100)),
        UsageGroup("2025-01-15", UsageTotals(1, 10, 5, 100, 200)),
    ]
    since = datetime(2025, 1, 15, tzinfo=UTC)
    assert await sut.execute(since=since, by=Grouping.DAY) == [
        UsageGroup("2025-01-15", UsageTotals(2, 20, 10, 300, 600))
    ]
    assert await sut.execute("bob@example.com", since=datetime(2026, 1, 1, tzinfo=UTC)) == [
        UsageGroup(None, UsageTotals())
    ]
