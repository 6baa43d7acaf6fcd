"""SetAccountLimits: an operator's per-account overrides of a plan's rate limits."""

import pytest

from application.plan_book import PlanBook
from application.use_cases.account_limits import LimitSetting, SetAccountLimits
from application.use_cases.accounts import CreateAccount
from domain.accounts import new_account
from domain.errors import InvalidRequest, NotFound
from domain.plans import ENTERPRISE_PLAN, FREE_PLAN, Endpoint, Plan, RatePolicy, Subject
from tests.fakes.memory import FakeClock, InMemoryAccountRepository

CHAT = frozenset({Endpoint.CHAT, Endpoint.EMBEDDINGS})


@pytest.fixture
def accounts() -> InMemoryAccountRepository:
    return InMemoryAccountRepository()


@pytest.fixture
def sut(accounts: InMemoryAccountRepository) -> SetAccountLimits:
    return SetAccountLimits(accounts, PlanBook([Plan("open")]))


async def add(accounts: InMemoryAccountRepository, plan: str = "enterprise", email: str = "ada@example.com"):
    account = new_account(email, plan, FakeClock().now())
    await accounts.add(account)
    return account


async def test_setting_a_bucket_overrides_it_and_keeps_the_plans_others(sut, accounts):
    account = await add(accounts)

    result = await sut.execute("ADA@example.com", [LimitSetting("chat", 1000, 60)])

    chat = RatePolicy("chat", CHAT, 1000, 60, Subject.KEY)  # the plan's bucket was per key
    assert result.changed is True
    assert result.account.rate_limits == (chat,)
    assert result.plan is ENTERPRISE_PLAN
    assert result.effective == (chat, *ENTERPRISE_PLAN.policies[1:])
    assert [result.overridden(p) for p in result.effective] == [True, False, False]
    assert (await accounts.get(account.id)).rate_limits == (chat,)


async def test_a_second_call_merges_and_a_subject_applies_to_what_it_sets(sut, accounts):
    await add(accounts)
    await sut.execute("ada@example.com", [LimitSetting("chat", 1000, 60)])

    result = await sut.execute(
        "ada@example.com", [LimitSetting("images", 100, 60), LimitSetting("moderations", 50, 1)], subject=Subject.IP
    )

    by_name = {p.name: p for p in result.account.rate_limits}
    assert list(by_name) == ["chat", "images", "moderations"]
    assert by_name["chat"].subject is Subject.KEY
    assert by_name["images"] == RatePolicy("images", frozenset({Endpoint.IMAGES}), 100, 60, Subject.IP)
    assert by_name["moderations"] == RatePolicy("moderations", frozenset({Endpoint.MODERATIONS}), 50, 1, Subject.IP)


async def test_clear_drops_every_override_and_with_settings_replaces_them(sut, accounts):
    account = await add(accounts, plan="free")
    await sut.execute("ada@example.com", [LimitSetting("chat", 1000, 60), LimitSetting("images", 9, 60)])

    replaced = await sut.execute("ada@example.com", [LimitSetting("images", 7, 60)], clear=True)
    assert [(p.name, p.limit) for p in replaced.account.rate_limits] == [("images", 7)]

    cleared = await sut.execute("ada@example.com", clear=True)
    assert cleared.changed is True and cleared.account.rate_limits == ()
    assert cleared.effective == FREE_PLAN.policies
    assert (await accounts.get(account.id)).rate_limits == ()
    again = await sut.execute("ada@example.com", clear=True)
    assert again.changed is False


async def test_with_nothing_to_change_it_reports(sut, accounts):
    await add(accounts, plan="free")
    await sut.execute("ada@example.com", [LimitSetting("chat", 1000, 60)])

    report = await sut.execute("ada@example.com")
    same = await sut.execute("ada@example.com", [LimitSetting("chat", 1000, 60)])

    assert report.changed is False and same.changed is False
    assert report.effective[0].limit == 1000


async def test_an_account_whose_plan_is_gone_is_limited_on_the_default_plan(sut, accounts):
    await add(accounts, plan="retired")
    result = await sut.execute("ada@example.com", [LimitSetting("chat", 5, 60)])
    assert result.plan.name == "default"
    assert result.effective[0] == RatePolicy("chat", CHAT, 5, 60, Subject.ACCOUNT)


async def test_refusals(sut, accounts):
    await add(accounts, plan="open")
    with pytest.raises(NotFound):
        await sut.execute("nobody@example.com", [LimitSetting("chat", 5, 60)])
    with pytest.raises(InvalidRequest, match="no rate bucket named 'video'"):
        await sut.execute("ada@example.com", [LimitSetting("video", 5, 60)])
    with pytest.raises(InvalidRequest, match="once per call"):
        await sut.execute("ada@example.com", [LimitSetting("chat", 5, 60), LimitSetting("chat", 6, 60)])
    with pytest.raises(InvalidRequest, match="positive limit"):
        await sut.execute("ada@example.com", [LimitSetting("chat", 0, 60)])
    with pytest.raises(InvalidRequest, match="subject"):
        await sut.execute("ada@example.com", subject=Subject.KEY)
    assert (await accounts.get_by_email("ada@example.com")).rate_limits == ()


async def test_a_new_free_account_is_on_the_builtin_free_plan(accounts):
    account = await CreateAccount(accounts, PlanBook(), FakeClock()).execute("eve@example.com", "free")
    assert account.plan == "free" and account.rate_limits == ()
