"""The specs' plans as built-ins, and per-account overrides of a plan's limits."""

from dataclasses import replace

import pytest

from application.gateway_request import GatewayRequest
from application.plan_book import PlanBook
from domain.errors import InvalidRequest, RateLimited
from domain.plans import (
    BUILTIN_PLANS,
    CREDITS_PLAN,
    DEFAULT_PLAN,
    ENTERPRISE_PLAN,
    FREE_PLAN,
    PRO_PLAN,
    STANDARD_PLAN,
    Endpoint,
    Plan,
    PricingMode,
    RatePolicy,
    Subject,
    effective_policies,
    merge_overrides,
    rate_override,
    with_account_limits,
)
from domain.pricing import charge_micros, worst_case_micros
from tests.fakes.memory import Harness

CHAT = frozenset({Endpoint.CHAT, Endpoint.EMBEDDINGS})
PATHS = {
    Endpoint.CHAT: "/chat/completions",
    Endpoint.EMBEDDINGS: "/embeddings",
    Endpoint.MODERATIONS: "/moderations",
    Endpoint.IMAGES: "/images/generations",
}


def request(endpoint: Endpoint, ip: str = "203.0.113.7") -> GatewayRequest:
    return GatewayRequest(endpoint, PATHS[endpoint], "openai/gpt-4o-mini", b"{}", client_ip=ip)


def limits(plan: Plan, endpoint: Endpoint) -> list[tuple[str, int, float, Subject]]:
    return [(p.name, p.limit, p.window_seconds, p.subject) for p in plan.policies_for(endpoint)]


# ------------------------------------------------------------------------------------ the built-ins


def test_builtin_names_are_unique_and_every_one_is_in_the_plan_book():
    names = [p.name for p in BUILTIN_PLANS]
    assert len(names) == len(set(names))
    book = PlanBook()
    assert all(book.require(name) is plan for name, plan in zip(names, BUILTIN_PLANS, strict=True))
    assert book.default_name == "default"


def test_default_plan_also_limits_images_to_150_per_30_minutes_per_account():
    assert limits(DEFAULT_PLAN, Endpoint.IMAGES) == [("images", 150, 1800, Subject.ACCOUNT)]


def test_credits_plan_is_the_credits_spec():
    sut = CREDITS_PLAN
    assert sut.prepaid is True
    assert sut.pricing.mode is PricingMode.PER_REQUEST
    assert sut.pricing.per_request_micros == 1_000_000  # one credit, $1
    assert worst_case_micros(sut, None, 10_000, 4096) == charge_micros(sut, 123) == 1_000_000
    (policy,) = sut.policies
    assert (policy.limit, policy.window_seconds, policy.subject) == (60, 60, Subject.IP)
    assert all(sut.policies_for(e) == (policy,) for e in Endpoint)  # every request counts, per IP
    assert sut.spend_caps == ()


@pytest.mark.parametrize(
    ("plan", "chat_rpm", "images_rpm"), [(FREE_PLAN, 10, 5), (STANDARD_PLAN, 60, 20), (PRO_PLAN, 300, 60)]
)
def test_gateway_tiers_are_per_key_per_minute(plan: Plan, chat_rpm: int, images_rpm: int):
    assert limits(plan, Endpoint.CHAT) == [("chat", chat_rpm, 60, Subject.KEY)]
    assert plan.policies_for(Endpoint.EMBEDDINGS) == plan.policies_for(Endpoint.CHAT)  # one bucket
    assert limits(plan, Endpoint.IMAGES) == [("images", images_rpm, 60, Subject.KEY)]
    assert limits(plan, Endpoint.MODERATIONS) == [("moderations", 300, 60, Subject.KEY)]
    assert plan.prepaid is False and plan.allowed_models is None
    assert plan.description.startswith(f"{chat_rpm} chat and {images_rpm} image requests a minute per key")


def test_enterprise_starts_from_pro_until_the_operator_sets_its_limits():
    assert ENTERPRISE_PLAN.name == "enterprise"
    assert ENTERPRISE_PLAN.policies == PRO_PLAN.policies
    assert "per account" in ENTERPRISE_PLAN.description


async def test_free_plan_admits_10_chat_and_5_image_requests_a_minute_per_key():
    h = Harness()
    ada = await h.principal(plan=FREE_PLAN)
    ada_second_key = replace(ada, key=replace(ada.key, id="key_second"))

    for i in range(10):
        await h.meter.admit(ada, request(Endpoint.CHAT if i % 2 else Endpoint.EMBEDDINGS))
    with pytest.raises(RateLimited) as caught:
        await h.meter.admit(ada, request(Endpoint.CHAT))
    assert caught.value.bucket == "chat"
    assert caught.value.decision.retry_after == pytest.approx(6.0)  # 60 s / 10
    for _ in range(5):
        await h.meter.admit(ada, request(Endpoint.IMAGES))
    with pytest.raises(RateLimited) as caught:
        await h.meter.admit(ada, request(Endpoint.IMAGES))
    assert caught.value.bucket == "images"
    await h.meter.admit(ada, request(Endpoint.MODERATIONS))
    await h.meter.admit(ada_second_key, request(Endpoint.CHAT))  # per key, not per account
    assert h.limiter.calls[-1][0].key == "rl:chat:key:key_second"


async def test_credits_plan_limits_each_ip_to_60_a_minute_across_endpoints():
    h = Harness()
    ada = await h.principal(plan=CREDITS_PLAN, balance_micros=1_000_000_000)
    bob = await h.principal(email="bob@example.com", plan=CREDITS_PLAN, balance_micros=1_000_000_000)

    endpoints = list(Endpoint)
    for i in range(60):
        await h.meter.admit(ada if i % 2 else bob, request(endpoints[i % len(endpoints)]))
    with pytest.raises(RateLimited) as caught:
        await h.meter.admit(ada, request(Endpoint.CHAT))
    assert caught.value.bucket == "per-ip"
    await h.meter.admit(ada, request(Endpoint.CHAT, ip="198.51.100.1"))  # another address has its own


# ------------------------------------------------------------------------------------- overrides


def test_no_overrides_is_the_plans_own_tuple():
    assert effective_policies(PRO_PLAN, ()) is PRO_PLAN.policies
    assert effective_policies(PRO_PLAN, None) is PRO_PLAN.policies
    assert with_account_limits(PRO_PLAN, ()) is PRO_PLAN


def test_overrides_take_precedence_bucket_by_bucket_in_the_plans_order():
    chat = RatePolicy("chat", CHAT, 1000, 60, Subject.ACCOUNT)
    extra = RatePolicy("per-ip", frozenset(Endpoint), 5, 1, Subject.IP)

    sut = effective_policies(ENTERPRISE_PLAN, (extra, chat))

    assert [p.name for p in sut] == ["chat", "images", "moderations", "per-ip"]
    assert sut[0] is chat and sut[3] is extra
    assert sut[1:3] == ENTERPRISE_PLAN.policies[1:3]
    plan = with_account_limits(ENTERPRISE_PLAN, (extra, chat))
    assert plan.name == "enterprise" and plan.policies == sut
    assert plan.policies_for(Endpoint.EMBEDDINGS) == (chat, extra)


def test_an_override_on_a_plan_without_limits_adds_them():
    chat = RatePolicy("chat", CHAT, 1, 60)
    assert effective_policies(Plan("open"), (chat,)) == (chat,)


def test_rate_override_keeps_the_buckets_endpoints_and_subject():
    sut = rate_override(FREE_PLAN, (), "images", 100, 60)
    assert sut == RatePolicy("images", frozenset({Endpoint.IMAGES}), 100, 60, Subject.KEY)
    assert rate_override(FREE_PLAN, (), "chat", 9, 1, Subject.IP).subject is Subject.IP
    per_ip = rate_override(CREDITS_PLAN, (), "per-ip", 600, 60)
    assert (per_ip.endpoints, per_ip.subject) == (frozenset(Endpoint), Subject.IP)


def test_rate_override_prefers_the_accounts_current_override_then_the_standard_buckets():
    current = (RatePolicy("chat", frozenset({Endpoint.CHAT}), 5, 60, Subject.IP),)
    again = rate_override(FREE_PLAN, current, "chat", 50, 60)
    assert (again.endpoints, again.subject) == (frozenset({Endpoint.CHAT}), Subject.IP)
    new = rate_override(CREDITS_PLAN, (), "chat", 50, 60)
    assert (new.endpoints, new.subject) == (CHAT, Subject.ACCOUNT)
    assert rate_override(CREDITS_PLAN, (), "moderations", 1, 1).endpoints == {Endpoint.MODERATIONS}


def test_rate_override_refuses_an_unknown_bucket_or_a_non_positive_limit():
    with pytest.raises(InvalidRequest, match=r"no rate bucket named 'video'.*known: chat, embeddings"):
        rate_override(FREE_PLAN, (), "video", 1, 60)
    with pytest.raises(InvalidRequest):
        rate_override(FREE_PLAN, (), "chat", 0, 60)
    with pytest.raises(InvalidRequest):
        rate_override(FREE_PLAN, (), "chat", 1, 0)


def test_merge_overrides_replaces_by_name_and_appends_new_ones():
    a, b = RatePolicy("chat", CHAT, 1, 60), RatePolicy("images", frozenset({Endpoint.IMAGES}), 2, 60)
    a2 = replace(a, limit=10)
    assert merge_overrides((a, b), (a2,)) == (a2, b)
    assert merge_overrides((b,), (a,)) == (b, a)
    assert merge_overrides((), ()) == ()


async def test_the_meter_enforces_an_accounts_override_through_its_plan():
    h = Harness()
    ada = await h.principal(plan=FREE_PLAN)
    override = rate_override(FREE_PLAN, (), "chat", 2, 60)
    ada = replace(ada, plan=with_account_limits(FREE_PLAN, (override,)))

    await h.meter.admit(ada, request(Endpoint.CHAT))
    await h.meter.admit(ada, request(Endpoint.EMBEDDINGS))
    with pytest.raises(RateLimited) as caught:
        await h.meter.admit(ada, request(Endpoint.CHAT))
    assert caught.value.decision.limit == 2
    for _ in range(5):
        await h.meter.admit(ada, request(Endpoint.IMAGES))  # the plan's other buckets stand
