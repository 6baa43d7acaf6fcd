"""Per-account spend caps: the rule, the use case that sets them, and the Meter honouring them."""

from datetime import timedelta

import pytest

from application.plan_book import PlanBook
from application.use_cases.account_spend_caps import SetAccountSpendCaps
from application.use_cases.authenticate import Authenticate
from domain.accounts import new_account
from domain.errors import InvalidRequest, NotFound, SpendCapReached
from domain.keys import issue_key
from domain.plans import (
    DEFAULT_PLAN,
    Period,
    Plan,
    SpendCap,
    SpendCapOverride,
    effective_spend_caps,
    merge_spend_overrides,
    with_account_limits,
)
from domain.usage import Outcome, UsageRecord
from tests.fakes.memory import FakeClock, Harness, InMemoryAccountRepository
from tests.unit.test_metering import chat

DAY, WEEK, MONTH = Period.DAY, Period.WEEK, Period.MONTH
CAPPED = Plan("capped", spend_caps=(SpendCap(DAY, 2_000_000), SpendCap(MONTH, 20_000_000)))
PEPPER = b"pepper"


# ---- the rule -----------------------------------------------------------------------------------


def test_no_overrides_keep_the_plans_own_caps():
    assert effective_spend_caps(CAPPED, ()) is CAPPED.spend_caps
    assert with_account_limits(CAPPED, (), ()) is CAPPED


def test_an_override_replaces_its_period_lifts_it_or_adds_one():
    overrides = (SpendCapOverride(DAY, 5_000_000), SpendCapOverride(MONTH, None), SpendCapOverride(WEEK, 9))

    assert effective_spend_caps(CAPPED, overrides) == (SpendCap(DAY, 5_000_000), SpendCap(WEEK, 9))
    plan = with_account_limits(CAPPED, (), overrides)
    assert plan.spend_caps == (SpendCap(DAY, 5_000_000), SpendCap(WEEK, 9))
    assert plan.policies == CAPPED.policies and plan.name == "capped"
    assert effective_spend_caps(DEFAULT_PLAN, (SpendCapOverride(DAY, None),)) == ()


def test_merging_keeps_period_order_and_drops_what_is_reset():
    current = (SpendCapOverride(MONTH, 1), SpendCapOverride(DAY, 2))
    merged = merge_spend_overrides(current, (SpendCapOverride(WEEK, 3),), dropped=(MONTH,))
    assert merged == (SpendCapOverride(DAY, 2), SpendCapOverride(WEEK, 3))


def test_a_negative_cap_and_a_period_twice_are_refused():
    with pytest.raises(InvalidRequest, match="cannot be negative"):
        SpendCapOverride(DAY, -1)
    account = new_account("ada@example.com", "capped", FakeClock().now())
    with pytest.raises(InvalidRequest, match="once"):
        account.with_spend_caps((SpendCapOverride(DAY, 1), SpendCapOverride(DAY, 2)))


# ---- the use case -------------------------------------------------------------------------------


@pytest.fixture
def accounts() -> InMemoryAccountRepository:
    return InMemoryAccountRepository()


@pytest.fixture
def sut(accounts) -> SetAccountSpendCaps:
    return SetAccountSpendCaps(accounts, PlanBook([CAPPED]))


async def test_setting_lifting_resetting_and_clearing(sut, accounts):
    account = new_account("ada@example.com", "capped", FakeClock().now())
    await accounts.add(account)

    first = await sut.execute("ADA@example.com", [SpendCapOverride(DAY, 5_000_000), SpendCapOverride(MONTH, None)])
    assert first.changed and first.previous == ()
    assert first.effective == (SpendCap(DAY, 5_000_000),)
    assert (first.source(DAY), first.source(WEEK), first.source(MONTH)) == ("account", "plan", "account")
    assert (await accounts.get(account.id)).spend_caps == (
        SpendCapOverride(DAY, 5_000_000),
        SpendCapOverride(MONTH, None),
    )

    reset = await sut.execute("ada@example.com", reset=[MONTH])
    assert reset.previous == first.account.spend_caps
    assert reset.effective == (SpendCap(DAY, 5_000_000), SpendCap(MONTH, 20_000_000))

    same = await sut.execute("ada@example.com", [SpendCapOverride(DAY, 5_000_000)])
    assert same.changed is False

    cleared = await sut.execute("ada@example.com", clear=True)
    assert cleared.changed and cleared.account.spend_caps == () and cleared.effective == CAPPED.spend_caps


async def test_refusals_change_nothing(sut, accounts):
    await accounts.add(new_account("ada@example.com", "capped", FakeClock().now()))
    with pytest.raises(NotFound):
        await sut.execute("nobody@example.com", [SpendCapOverride(DAY, 1)])
    with pytest.raises(InvalidRequest, match="once per call"):
        await sut.execute("ada@example.com", [SpendCapOverride(DAY, 1)], reset=[DAY])
    assert (await accounts.get_by_email("ada@example.com")).spend_caps == ()


# ---- honoured where a key is authenticated, and so by the Meter ------------------------------------


async def _authenticated(h: Harness, plan: Plan, overrides: tuple[SpendCapOverride, ...]):
    account = new_account("ada@example.com", plan.name, h.clock.now()).with_spend_caps(overrides)
    await h.accounts.add(account)
    issued = issue_key(account.id, "test", PEPPER, h.clock.now(), active_keys=0)
    await h.keys.add(issued.key)
    return await Authenticate(h.keys, PlanBook([plan]), h.clock, PEPPER).execute(issued.secret)


def _spent(principal, micros: int, h: Harness) -> UsageRecord:
    return UsageRecord(
        "r1", principal.account.id, principal.key.id, "chat", "openai/gpt-4o-mini", Outcome.OK, 200,
        1, 1, micros, micros, 5, False, h.clock.now() - timedelta(minutes=1),
    )  # fmt: skip


async def test_the_meter_refuses_at_an_accounts_own_cap_on_an_uncapped_plan():
    h = Harness()
    principal = await _authenticated(h, DEFAULT_PLAN, (SpendCapOverride(DAY, 1_000),))
    assert principal.plan.spend_caps == (SpendCap(DAY, 1_000),)
    h.usage.write(_spent(principal, 1_000, h))

    with pytest.raises(SpendCapReached) as caught:
        await h.meter.admit(principal, chat())
    assert (caught.value.period, caught.value.limit_micros) == (DAY, 1_000)


async def test_the_meter_admits_past_a_plans_cap_the_account_lifts():
    h = Harness()
    principal = await _authenticated(h, CAPPED, (SpendCapOverride(DAY, None),))
    assert principal.plan.spend_caps == (SpendCap(MONTH, 20_000_000),)
    h.usage.write(_spent(principal, 3_000_000, h))  # past the plan's daily $2

    admission = await h.meter.admit(principal, chat())
    assert admission.principal.account.spend_caps == (SpendCapOverride(DAY, None),)
