from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.gateway_request import GatewayRequest
from application.plan_book import PlanBook
from domain.errors import InvalidRequest, RateLimited
from domain.plans import (
    BUILTIN_PLANS,
    DEFAULT_PLAN,
    FREE_PLAN,
    UNLIMITED_PLAN,
    Endpoint,
    Period,
    Plan,
    PricingMode,
    RatePolicy,
    Subject,
    period_end,
    period_start,
)
from interfaces.wording import describe
from tests.fakes.memory import Harness

ALL_BUILTINS = ("default", "unlimited", "credits", "free", "standard", "pro", "enterprise")

PATHS = {
    Endpoint.CHAT: "/chat/completions",
    Endpoint.EMBEDDINGS: "/embeddings",
    Endpoint.MODERATIONS: "/moderations",
    Endpoint.IMAGES: "/images/generations",
}


def request(endpoint: Endpoint) -> GatewayRequest:
    return GatewayRequest(endpoint, PATHS[endpoint], "openai/gpt-4o-mini", b"{}")


# ------------------------------------------------------------------------------------- default plan


def test_default_plan_is_the_spec():
    sut = DEFAULT_PLAN
    (chat,) = sut.policies_for(Endpoint.CHAT)
    (embeddings,) = sut.policies_for(Endpoint.EMBEDDINGS)
    (moderations,) = sut.policies_for(Endpoint.MODERATIONS)

    assert sut.name == "default"
    assert chat is embeddings  # one shared bucket for chat and embeddings
    assert (chat.limit, chat.window_seconds, chat.subject) == (150, 1800, Subject.ACCOUNT)
    assert (moderations.limit, moderations.window_seconds, moderations.subject) == (300, 60, Subject.ACCOUNT)
    assert chat.interval_label() == "30m"
    assert moderations.interval_label() == "1m"
    assert sut.prepaid is False
    assert sut.spend_caps == ()
    assert sut.allowed_models is None
    assert sut.pricing.mode is PricingMode.PER_TOKEN
    assert sut.pricing.multiplier == Fraction(1)


def test_unlimited_plan_has_no_limits_and_no_balance():
    assert UNLIMITED_PLAN.name == "unlimited"
    assert UNLIMITED_PLAN.policies == ()
    assert all(UNLIMITED_PLAN.policies_for(e) == () for e in Endpoint)
    assert UNLIMITED_PLAN.prepaid is False
    assert {p.name for p in BUILTIN_PLANS} == set(ALL_BUILTINS)


async def test_default_plan_admits_150_chat_and_embedding_requests_per_30_minutes_per_account():
    h = Harness()
    sut = h.meter
    ada = await h.principal(email="ada@example.com")
    bob = await h.principal(email="bob@example.com")

    for i in range(150):
        await sut.admit(ada, request(Endpoint.CHAT if i % 2 else Endpoint.EMBEDDINGS))
    with pytest.raises(RateLimited) as caught:
        await sut.admit(ada, request(Endpoint.EMBEDDINGS))
    with pytest.raises(RateLimited):
        await sut.admit(ada, request(Endpoint.CHAT))

    assert caught.value.bucket == "chat"
    assert caught.value.decision.allowed is False
    assert caught.value.decision.limit == 150
    assert caught.value.decision.retry_after == pytest.approx(12.0)  # 1800 s / 150
    assert "150 requests per 30m" in describe(caught.value)
    # another account has its own bucket; moderations have theirs
    await sut.admit(bob, request(Endpoint.CHAT))
    await sut.admit(ada, request(Endpoint.MODERATIONS))
    # one request comes back every 12 seconds
    h.clock.advance(11.9)
    with pytest.raises(RateLimited):
        await sut.admit(ada, request(Endpoint.CHAT))
    h.clock.advance(0.1)
    admitted = await sut.admit(ada, request(Endpoint.CHAT))
    assert admitted.decision is not None and admitted.decision.remaining == 0


async def test_default_plan_admits_300_moderations_per_minute():
    h = Harness()
    ada = await h.principal()

    for _ in range(300):
        await h.meter.admit(ada, request(Endpoint.MODERATIONS))
    with pytest.raises(RateLimited) as caught:
        await h.meter.admit(ada, request(Endpoint.MODERATIONS))

    assert caught.value.bucket == "moderations"
    assert caught.value.decision.retry_after == pytest.approx(0.2)  # 60 s / 300
    await h.meter.admit(ada, request(Endpoint.CHAT))  # the chat bucket is untouched
    h.clock.advance(60)
    for _ in range(300):
        await h.meter.admit(ada, request(Endpoint.MODERATIONS))


async def test_default_plan_keys_its_buckets_by_account():
    h = Harness()
    ada = await h.principal()

    await h.meter.admit(ada, request(Endpoint.CHAT))

    (checks,) = h.limiter.calls
    assert [(c.key, c.limit, c.window) for c in checks] == [(f"rl:chat:account:{ada.account.id}", 150, 1800)]


# ---------------------------------------------------------------------------------------- policies


@pytest.mark.parametrize(
    ("window", "label"),
    [
        (1800, "30m"),
        (60, "1m"),
        (3600, "1h"),
        (7200, "2h"),
        (5400, "90m"),
        (86400, "1d"),
        (172800, "2d"),
        (90, "90s"),
        (10, "10s"),
        (1, "1s"),
        (0.5, "0.5s"),
        (1800.0, "30m"),
    ],
)
def test_interval_labels(window, label):
    assert RatePolicy("p", frozenset({Endpoint.CHAT}), 1, window).interval_label() == label


@pytest.mark.parametrize(("limit", "window"), [(0, 60), (-1, 60), (1, 0), (1, -5)])
def test_a_policy_needs_a_positive_limit_and_window(limit, window):
    with pytest.raises(InvalidRequest):
        RatePolicy("p", frozenset({Endpoint.CHAT}), limit, window)


def test_plan_model_access():
    sut = Plan("narrow", allowed_models=frozenset({"a/b"}))

    assert sut.allows_model("a/b") is True
    assert sut.allows_model("a/c") is False
    assert DEFAULT_PLAN.allows_model("anything") is True


# ----------------------------------------------------------------------------------------- periods


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        (Period.DAY, utc(2025, 1, 15, 12, 30), utc(2025, 1, 15), utc(2025, 1, 16)),
        (Period.DAY, utc(2025, 1, 15), utc(2025, 1, 15), utc(2025, 1, 16)),
        (Period.DAY, utc(2024, 12, 31, 23, 59, 59), utc(2024, 12, 31), utc(2025, 1, 1)),
        (Period.WEEK, utc(2025, 1, 15, 12), utc(2025, 1, 13), utc(2025, 1, 20)),  # Wednesday -> Monday
        (Period.WEEK, utc(2025, 1, 13), utc(2025, 1, 13), utc(2025, 1, 20)),  # Monday midnight
        (Period.WEEK, utc(2025, 1, 19, 23, 59), utc(2025, 1, 13), utc(2025, 1, 20)),  # Sunday night
        (Period.WEEK, utc(2025, 1, 1, 8), utc(2024, 12, 30), utc(2025, 1, 6)),  # across a year
        (Period.MONTH, utc(2025, 1, 31, 23), utc(2025, 1, 1), utc(2025, 2, 1)),
        (Period.MONTH, utc(2024, 2, 29, 12), utc(2024, 2, 1), utc(2024, 3, 1)),
        (Period.MONTH, utc(2024, 12, 1), utc(2024, 12, 1), utc(2025, 1, 1)),
    ],
)
def test_period_boundaries(period, now, start, end):
    assert period_start(period, now) == start
    assert period_end(period, now) == end


def test_periods_are_counted_in_utc_whatever_the_zone_of_now():
    paris = timezone(timedelta(hours=1))
    tokyo = timezone(timedelta(hours=9))
    # 00:30 in Paris on the 1st is still the 31st (23:30) in UTC
    just_after_midnight_in_paris = datetime(2025, 2, 1, 0, 30, tzinfo=paris)
    # 08:00 on Monday in Tokyo is 23:00 on Sunday in UTC
    monday_morning_in_tokyo = datetime(2025, 1, 20, 8, 0, tzinfo=tokyo)

    assert period_start(Period.DAY, just_after_midnight_in_paris) == utc(2025, 1, 31)
    assert period_start(Period.MONTH, just_after_midnight_in_paris) == utc(2025, 1, 1)
    assert period_end(Period.MONTH, just_after_midnight_in_paris) == utc(2025, 2, 1)
    assert period_start(Period.WEEK, monday_morning_in_tokyo) == utc(2025, 1, 13)
    assert period_start(Period.DAY, monday_morning_in_tokyo).tzinfo == UTC


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(list(Period)),
)
def test_now_lies_in_its_period(now, period):
    start, end = period_start(period, now), period_end(period, now)

    assert start <= now < end
    assert (start.hour, start.minute, start.second, start.microsecond) == (0, 0, 0, 0)
    assert period_start(period, start) == start
    assert period_start(period, end) == end  # the next period starts where this one ends
    assert period_start(period, end - timedelta(microseconds=1)) == start
    if period is Period.WEEK:
        assert start.weekday() == 0 and end - start == timedelta(days=7)
    if period is Period.MONTH:
        assert start.day == 1 and end.day == 1
    if period is Period.DAY:
        assert end - start == timedelta(days=1)


# --------------------------------------------------------------------------------------- plan book


def test_plan_book_has_the_builtins_and_a_default():
    sut = PlanBook()

    assert sut.default_name == "default"
    assert sut.get("default") is DEFAULT_PLAN
    assert sut.require("unlimited") is UNLIMITED_PLAN
    assert sut.require("free") is FREE_PLAN
    assert [p.name for p in sut.all()] == sorted(ALL_BUILTINS)


def test_plan_book_falls_back_to_the_default_for_a_removed_plan_but_require_refuses():
    gold = Plan("gold", prepaid=True)
    sut = PlanBook([gold], default="gold")

    assert sut.get("retired") is gold
    assert sut.get("default") is DEFAULT_PLAN
    with pytest.raises(InvalidRequest, match="no plan named 'retired'"):
        sut.require("retired")


def test_configured_plans_override_builtins_by_name():
    mine = Plan("default", prepaid=True)
    sut = PlanBook([mine])

    assert sut.get("default") is mine
    assert [p.name for p in sut.all()] == sorted(ALL_BUILTINS)


def test_plan_book_refuses_an_undefined_default():
    with pytest.raises(InvalidRequest):
        PlanBook(default="gold")
