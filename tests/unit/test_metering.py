import inspect
import pkgutil
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

import application.ports
from application.gateway_request import GatewayRequest
from application.ports import (
    accounts,
    api_keys,
    clock,
    credit_admin,
    credits,
    image_store,
    leases,
    model_resolver,
    moderation,
    password_hasher,
    passwords,
    rate_limiter,
    telemetry,
    upstream,
    usage,
    web_sessions,
)
from domain.catalog import ModelInfo
from domain.credits import EntryKind, grant_entry
from domain.errors import InsufficientCredits, ModelNotAllowed, RateLimited, SpendCapReached, UnknownModel
from domain.plans import Endpoint, Period, Plan, Pricing, PricingMode, RatePolicy, SpendCap, Subject
from domain.pricing import Usage
from domain.usage import Outcome, UsageRecord
from interfaces.wording import describe
from tests.fakes import image_store as fake_images
from tests.fakes import memory
from tests.fakes import moderator as fake_moderator
from tests.fakes import web_accounts as fake_web
from tests.fakes.memory import CHEAP_MODEL, FakeModelCatalog, Harness, InMemoryCreditLedger

MODEL = CHEAP_MODEL.id
BODY = b"x" * 300  # estimated at 100 prompt tokens
CHAT = frozenset({Endpoint.CHAT})
PREPAID = Plan("prepaid", prepaid=True)


def chat(model: str = MODEL, *, max_tokens: int | None = 50, body: bytes = BODY, ip: str = "") -> GatewayRequest:
    return GatewayRequest(Endpoint.CHAT, "/chat/completions", model, body, max_tokens=max_tokens, client_ip=ip)


def record_for(
    principal,
    charged: int,
    created_at: datetime,
    *,
    request_id: str,
    key_id: str | None = None,
) -> UsageRecord:
    return UsageRecord(
        id=request_id,
        account_id=principal.account.id,
        key_id=key_id or principal.key.id,
        endpoint="chat",
        model=MODEL,
        outcome=Outcome.OK,
        http_status=200,
        prompt_tokens=1,
        completion_tokens=1,
        cost_micros=charged,
        charged_micros=charged,
        latency_ms=1,
        streamed=False,
        created_at=created_at,
    )


# ------------------------------------------------------------------------------------------ models


async def test_a_model_outside_the_plan_is_not_allowed_and_costs_no_rate():
    h = Harness()
    principal = await h.principal(Plan("narrow", allowed_models=frozenset({"other/model"})))

    with pytest.raises(ModelNotAllowed) as caught:
        await h.meter.admit(principal, chat())

    assert describe(caught.value) == f"The model '{MODEL}' is not available on your plan."
    assert h.limiter.calls == []


async def test_a_model_outside_the_key_is_not_allowed():
    h = Harness()
    principal = await h.principal(allowed_models=frozenset({"other/model"}))

    with pytest.raises(ModelNotAllowed):
        await h.meter.admit(principal, chat())


async def test_a_model_outside_the_gateway_list_is_not_allowed():
    h = Harness(gateway_models=frozenset({"other/model"}))
    principal = await h.principal()

    with pytest.raises(ModelNotAllowed):
        await h.meter.admit(principal, chat())


async def test_an_unknown_model_is_refused_when_the_catalogue_is_known():
    h = Harness()
    principal = await h.principal()

    with pytest.raises(UnknownModel) as caught:
        await h.meter.admit(principal, chat("nobody/nothing"))

    assert describe(caught.value) == "Model 'nobody/nothing' not found"
    assert caught.value.code == "model_not_found"
    assert h.limiter.calls == []


async def test_an_unknown_model_passes_when_the_catalogue_could_not_be_loaded():
    h = Harness(catalog=FakeModelCatalog([CHEAP_MODEL], known=False))
    principal = await h.principal()

    admission = await h.meter.admit(principal, chat("nobody/nothing"))

    assert admission.model is None


@pytest.mark.parametrize("model", ["openrouter/auto", "@preset/my-preset"])
async def test_models_the_upstream_routes_itself_need_no_catalogue_entry(model):
    h = Harness()
    principal = await h.principal()

    admission = await h.meter.admit(principal, chat(model))

    assert admission.model is None


async def test_admission_carries_the_catalogue_entry():
    h = Harness()
    principal = await h.principal()

    admission = await h.meter.admit(principal, chat())

    assert admission.model == CHEAP_MODEL
    assert admission.principal == principal
    assert admission.request_id.startswith("req_") and len(admission.request_id) == 4 + 16 + 12
    assert (await h.meter.admit(principal, chat())).request_id != admission.request_id
    assert admission.started == h.clock.monotonic()


# -------------------------------------------------------------------------------------- rate limits


async def test_rate_limited_with_the_decision():
    plan = Plan("tight", policies=(RatePolicy("chat", CHAT, 2, 60),))
    h = Harness()
    principal = await h.principal(plan)

    first = await h.meter.admit(principal, chat())
    await h.meter.admit(principal, chat())
    with pytest.raises(RateLimited) as caught:
        await h.meter.admit(principal, chat())

    assert first.decision is not None and (first.decision.allowed, first.decision.remaining) == (True, 1)
    error = caught.value
    assert error.bucket == "chat"
    assert error.decision.allowed is False
    assert error.decision.limit == 2
    assert error.decision.remaining == 0
    assert error.decision.retry_after == pytest.approx(30.0)
    assert error.decision.reset_after == pytest.approx(60.0)
    assert describe(error) == "Rate limit exceeded: 2 requests per 1m (chat). Retry in 30 s."
    assert error.code == "rate_limit_exceeded"


async def test_a_request_denied_by_one_policy_consumes_none_of_the_others():
    plan = Plan(
        "two",
        policies=(
            RatePolicy("per-account", CHAT, 10, 60, Subject.ACCOUNT),
            RatePolicy("per-key", CHAT, 1, 60, Subject.KEY),
        ),
    )
    h = Harness()
    principal = await h.principal(plan)
    await h.meter.admit(principal, chat())
    account_tat = h.limiter.tats[f"rl:per-account:account:{principal.account.id}"]

    with pytest.raises(RateLimited) as caught:
        await h.meter.admit(principal, chat())

    assert caught.value.bucket == "per-key"
    assert h.limiter.tats[f"rl:per-account:account:{principal.account.id}"] == account_tat
    assert [c.key for c in h.limiter.calls[-1]] == [
        f"rl:per-account:account:{principal.account.id}",
        f"rl:per-key:key:{principal.key.id}",
    ]


async def test_the_admission_reports_the_tightest_decision():
    plan = Plan(
        "two",
        policies=(RatePolicy("wide", CHAT, 100, 60), RatePolicy("narrow", CHAT, 3, 60, Subject.IP)),
    )
    h = Harness()
    principal = await h.principal(plan)

    admission = await h.meter.admit(principal, chat(ip="10.0.0.1"))

    assert admission.decision is not None
    assert (admission.decision.limit, admission.decision.remaining) == (3, 2)
    assert h.limiter.calls[-1][1].key == "rl:narrow:ip:10.0.0.1"


async def test_no_policy_no_decision():
    h = Harness()
    principal = await h.principal(Plan("free-for-all"))

    admission = await h.meter.admit(principal, chat())

    assert admission.decision is None
    assert h.limiter.calls == []


async def test_a_rate_limited_request_reserves_nothing():
    plan = Plan("tight", prepaid=True, policies=(RatePolicy("chat", CHAT, 1, 60),))
    h = Harness()
    principal = await h.principal(plan, balance_micros=1_000_000)
    await h.meter.admit(principal, chat())

    with pytest.raises(RateLimited):
        await h.meter.admit(principal, chat())

    assert [e.kind for e in await h.ledger.entries(principal.account.id)] == [EntryKind.GRANT, EntryKind.RESERVE]


# -------------------------------------------------------------------------------------- spend caps


def capped(limit_micros: int, period: Period = Period.DAY) -> Plan:
    return Plan("capped", spend_caps=(SpendCap(period, limit_micros),))


async def test_an_unknown_spend_counter_is_seeded_from_this_periods_usage():
    h = Harness()
    principal = await h.principal(capped(5_000))
    now = h.clock.now()  # 2025-01-15 12:00 UTC
    h.usage.write(record_for(principal, 300, now - timedelta(hours=12), request_id="r_today"))
    h.usage.write(record_for(principal, 900, now - timedelta(hours=12, seconds=1), request_id="r_yesterday"))
    h.usage.write(record_for(principal, 900, now, request_id="r_other", key_id="key_other"))

    await h.meter.admit(principal, chat())

    key = f"spend:{principal.account.id}:day:20250115"
    # this UTC day's charges on every key of the account; yesterday's do not count
    assert h.spend.seeds == [(key, 1_200, 36 * 3600)]  # until the day ends, plus a day
    assert await h.spend.spent(key) == 1_200


async def test_a_cap_seeded_at_or_above_its_limit_refuses():
    h = Harness()
    principal = await h.principal(capped(500))
    h.usage.write(record_for(principal, 500, h.clock.now(), request_id="r1"))

    with pytest.raises(SpendCapReached) as caught:
        await h.meter.admit(principal, chat())

    assert describe(caught.value) == "The daily spend cap of $0.00 is reached."
    assert caught.value.code == "spend_cap_reached"


@pytest.mark.parametrize(
    ("period", "word", "start"),
    [(Period.DAY, "daily", "20250115"), (Period.WEEK, "weekly", "20250113"), (Period.MONTH, "monthly", "20250101")],
)
async def test_a_known_counter_is_trusted_over_the_usage_store(period, word, start):
    h = Harness()
    principal = await h.principal(capped(5_000_000, period))
    h.usage.write(record_for(principal, 10_000_000, h.clock.now(), request_id="r1"))
    key = f"spend:{principal.account.id}:{period.value}:{start}"
    h.spend.set(key, 4_999_999)

    await h.meter.admit(principal, chat())  # under the cap by one micro-dollar

    h.spend.set(key, 5_000_000)
    with pytest.raises(SpendCapReached) as caught:
        await h.meter.admit(principal, chat())
    assert describe(caught.value) == f"The {word} spend cap of $5.00 is reached."
    assert h.spend.seeds == []


async def test_settlement_adds_the_charge_to_every_cap():
    plan = Plan("capped", spend_caps=(SpendCap(Period.DAY, 10**9), SpendCap(Period.MONTH, 10**10)))
    h = Harness()
    principal = await h.principal(plan)
    admission = await h.meter.admit(principal, chat())

    await h.meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=Usage(10, 10, 1_234))

    day = f"spend:{principal.account.id}:day:20250115"
    month = f"spend:{principal.account.id}:month:20250101"
    assert await h.spend.spent(day) == 1_234
    assert await h.spend.spent(month) == 1_234
    assert [(k, m) for k, m, _ in h.spend.adds] == [(day, 1_234), (month, 1_234)]


async def test_a_failed_request_adds_nothing_to_the_caps():
    h = Harness()
    principal = await h.principal(capped(10**9))
    admission = await h.meter.admit(principal, chat())

    await h.meter.settle(admission, outcome=Outcome.UPSTREAM_ERROR, http_status=502)

    assert h.spend.adds == []


# ----------------------------------------------------------------------------------------- credits


async def test_a_postpaid_plan_reserves_nothing():
    h = Harness()
    principal = await h.principal()

    admission = await h.meter.admit(principal, chat())

    assert admission.reserved_micros == 0
    assert h.ledger.all_entries == []


async def test_a_prepaid_plan_reserves_the_worst_case():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)

    admission = await h.meter.admit(principal, chat(max_tokens=50))

    # 100 prompt tokens at $1/M + 50 completion tokens at $2/M = 200 micro-dollars
    assert admission.reserved_micros == 200
    assert await h.ledger.balance(principal.account.id) == 800
    reservation = (await h.ledger.entries(principal.account.id))[-1]
    assert (reservation.kind, reservation.amount_micros) == (EntryKind.RESERVE, -200)
    assert reservation.idempotency_key == f"{admission.request_id}:reserve"


async def test_insufficient_credits_reserves_nothing():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=199)

    with pytest.raises(InsufficientCredits) as caught:
        await h.meter.admit(principal, chat(max_tokens=50))

    assert (caught.value.required, caught.value.available) == (200, 199)
    assert await h.ledger.balance(principal.account.id) == 199
    assert [e.kind for e in h.ledger.all_entries] == [EntryKind.GRANT]


async def test_an_empty_balance_is_refused_even_for_a_free_looking_request():
    h = Harness()
    principal = await h.principal(PREPAID)

    with pytest.raises(InsufficientCredits) as caught:
        await h.meter.admit(principal, chat())

    assert caught.value.available == 0


class _StaleBalanceLedger(InMemoryCreditLedger):
    """Reports a balance that another request has spent by the time the reservation lands."""

    def __init__(self) -> None:
        super().__init__()
        self.lie_once = False

    async def balance(self, account_id: str) -> int:
        real = await super().balance(account_id)
        if self.lie_once:
            self.lie_once = False
            return real + 1_000_000
        return real


async def test_the_store_decides_a_reservation_without_a_balance_read_first():
    ledger = _StaleBalanceLedger()
    h = Harness(ledger=ledger)
    principal = await h.principal(PREPAID, balance_micros=150)

    with pytest.raises(InsufficientCredits) as caught:
        await h.meter.admit(principal, chat(max_tokens=50))

    assert (caught.value.required, caught.value.available) == (200, 150)
    assert await ledger.balance(principal.account.id) == 150
    assert len(ledger.refused_reservations) == 1


async def test_settling_charges_exactly_the_cost_and_returns_the_rest():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    admission = await h.meter.admit(principal, chat(max_tokens=50))
    h.clock.advance(0.25)

    settlement = await h.meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=Usage(90, 40, 170))

    assert settlement.charged_micros == 170
    assert settlement.usage == Usage(90, 40, 170)
    assert await h.ledger.balance(principal.account.id) == 830
    settle = (await h.ledger.entries(principal.account.id))[-1]
    assert (settle.kind, settle.amount_micros, settle.idempotency_key) == (
        EntryKind.SETTLE,
        30,
        f"{admission.request_id}:settle",
    )
    (record,) = h.recorder.accepted
    assert record == UsageRecord(
        id=admission.request_id,
        account_id=principal.account.id,
        key_id=principal.key.id,
        endpoint="chat",
        model=MODEL,
        outcome=Outcome.OK,
        http_status=200,
        prompt_tokens=90,
        completion_tokens=40,
        cost_micros=170,
        charged_micros=170,
        latency_ms=250,
        streamed=False,
        created_at=h.clock.now(),
    )


async def test_an_overrun_is_taken_too():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    admission = await h.meter.admit(principal, chat(max_tokens=50))

    await h.meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=Usage(100, 400, 900))

    assert await h.ledger.balance(principal.account.id) == 100
    assert (await h.ledger.entries(principal.account.id))[-1].amount_micros == 200 - 900


async def test_a_cost_the_upstream_did_not_report_comes_from_the_catalogue():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    admission = await h.meter.admit(principal, chat(max_tokens=50))

    settlement = await h.meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=Usage(100, 25))

    # 100 * $1/M + 25 * $2/M = 150 micro-dollars
    assert settlement.charged_micros == 150
    assert settlement.usage.cost_micros == 150
    assert h.recorder.accepted[0].cost_micros == 150
    assert await h.ledger.balance(principal.account.id) == 850


async def test_the_multiplier_is_applied_with_a_ceiling():
    plan = Plan("markup", prepaid=True, pricing=Pricing(multiplier=Fraction(3, 2)))
    h = Harness()
    principal = await h.principal(plan, balance_micros=10_000)
    admission = await h.meter.admit(principal, chat(max_tokens=50))

    settlement = await h.meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=Usage(10, 10, 101))

    assert admission.reserved_micros == 300  # 200 * 1.5
    assert settlement.charged_micros == 152  # 151.5 rounds up
    assert h.recorder.accepted[0].cost_micros == 101
    assert h.recorder.accepted[0].charged_micros == 152
    assert await h.ledger.balance(principal.account.id) == 10_000 - 152


async def test_per_request_pricing_charges_exactly_the_configured_price():
    plan = Plan("flat", prepaid=True, pricing=Pricing(PricingMode.PER_REQUEST, per_request_micros=2_500))
    h = Harness()
    principal = await h.principal(plan, balance_micros=10_000)
    admission = await h.meter.admit(principal, chat(max_tokens=5_000))

    settlement = await h.meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=Usage(1, 1, 999_999))

    assert admission.reserved_micros == 2_500
    assert settlement.charged_micros == 2_500
    assert await h.ledger.balance(principal.account.id) == 7_500


async def test_an_upstream_error_releases_the_reservation_and_charges_nothing():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    admission = await h.meter.admit(principal, chat(max_tokens=50))

    settlement = await h.meter.settle(
        admission, outcome=Outcome.UPSTREAM_ERROR, http_status=503, usage=Usage(100, 100, 500)
    )

    assert settlement.charged_micros == 0
    assert await h.ledger.balance(principal.account.id) == 1_000
    release = (await h.ledger.entries(principal.account.id))[-1]
    assert (release.kind, release.amount_micros) == (EntryKind.RELEASE, 200)
    (record,) = h.recorder.accepted
    assert (record.outcome, record.http_status, record.charged_micros, record.cost_micros) == (
        Outcome.UPSTREAM_ERROR,
        503,
        0,
        0,
    )
    assert (record.prompt_tokens, record.completion_tokens) == (0, 0)


async def test_a_postpaid_plan_writes_no_ledger_entries_but_records_the_charge():
    h = Harness()
    principal = await h.principal()
    admission = await h.meter.admit(principal, chat())

    await h.meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=Usage(5, 5, 77))

    assert h.ledger.all_entries == []
    assert h.recorder.accepted[0].charged_micros == 77


async def test_a_cut_off_request_is_billed_from_the_characters_generated():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    admission = await h.meter.admit(principal, chat(max_tokens=50))

    settlement = await h.meter.settle(
        admission, outcome=Outcome.CLIENT_DISCONNECTED, http_status=499, generated_chars=41
    )

    # 100 estimated prompt tokens, ceil(41 / 4) = 11 completion tokens: 100 + 22 micro-dollars
    assert settlement.usage == Usage(100, 11, 122)
    assert settlement.charged_micros == 122
    assert await h.ledger.balance(principal.account.id) == 878


async def test_an_unpriced_model_without_a_reported_cost_is_charged_nothing():
    h = Harness(catalog=FakeModelCatalog([ModelInfo("free/model")]))
    principal = await h.principal(PREPAID, balance_micros=20_000)
    admission = await h.meter.admit(principal, chat("free/model"))

    settlement = await h.meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=Usage(10, 10))

    assert admission.reserved_micros == PREPAID.fallback_reservation_micros
    assert settlement.charged_micros == 0
    assert await h.ledger.balance(principal.account.id) == 20_000


async def test_settling_twice_never_charges_twice():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    admission = await h.meter.admit(principal, chat(max_tokens=50))

    await h.meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=Usage(1, 1, 100))
    await h.meter.settle(admission, outcome=Outcome.UPSTREAM_ERROR, http_status=502)
    await h.recorder.flush()

    assert await h.ledger.balance(principal.account.id) == 900
    assert len(h.usage.records) == 1
    assert h.usage.records[0].charged_micros == 100


class _BrokenLedger(InMemoryCreditLedger):
    async def append(self, entry):
        raise ConnectionError("ledger down")


async def test_a_ledger_failure_at_settlement_still_records_the_charge():
    ledger = _BrokenLedger()
    h = Harness(ledger=ledger)
    principal = await h.principal(PREPAID)
    # funded before it broke: the reservation goes through, the settlement's append fails
    await InMemoryCreditLedger.append(ledger, grant_entry(principal.account.id, 1_000, "g", h.clock.now()))
    admission = await h.meter.admit(principal, chat(max_tokens=50))

    settlement = await h.meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=Usage(1, 1, 100))

    assert settlement.charged_micros == 100
    assert h.recorder.accepted[0].charged_micros == 100
    assert await ledger.balance(principal.account.id) == 800  # still holding the reservation


# ------------------------------------------------------------------------------------------- fakes


@pytest.mark.parametrize(
    ("port", "fake"),
    [
        (accounts.AccountRepository, memory.InMemoryAccountRepository),
        (api_keys.ApiKeyRepository, memory.InMemoryApiKeyRepository),
        (clock.Clock, memory.FakeClock),
        (credits.CreditLedger, memory.InMemoryCreditLedger),
        (leases.LeaseStore, memory.InMemoryLeaseStore),
        (credit_admin.CreditAdmin, memory.InMemoryCreditLedger),
        (rate_limiter.RateLimiter, memory.RecordingRateLimiter),
        (rate_limiter.SpendCounter, memory.InMemorySpendCounter),
        (upstream.Upstream, memory.FakeUpstream),
        (upstream.UpstreamStream, memory.FakeUpstreamStream),
        (upstream.ModelCatalog, memory.FakeModelCatalog),
        (usage.UsageRecorder, memory.InMemoryUsageRecorder),
        (usage.UsageQueries, memory.InMemoryUsageStore),
        (telemetry.Telemetry, memory.RecordingTelemetry),
        (image_store.ImageStore, fake_images.InMemoryImageStore),
        (moderation.Moderator, fake_moderator.ScriptedModerator),
        (model_resolver.ModelResolver, memory.FakeModelCatalog),
        (password_hasher.PasswordHasher, fake_web.FakePasswordHasher),
        (passwords.PasswordStore, fake_web.InMemoryPasswordStore),
        (web_sessions.SessionStore, fake_web.InMemorySessionStore),
    ],
)
def test_every_fake_has_every_method_of_its_port(port, fake):
    methods = [n for n, v in vars(port).items() if callable(v) and (not n.startswith("_") or n == "__aiter__")]
    assert methods
    for name in methods:
        wanted, have = getattr(port, name), getattr(fake, name)
        assert inspect.iscoroutinefunction(have) == inspect.iscoroutinefunction(wanted), name
        assert list(inspect.signature(have).parameters) == list(inspect.signature(wanted).parameters), name


def test_every_port_module_has_its_fakes_checked():
    checked = {
        "leases",
        "accounts",
        "api_keys",
        "clock",
        "credit_admin",
        "credits",
        "rate_limiter",
        "telemetry",
        "upstream",
        "usage",
        "image_store",
        "moderation",
        "model_resolver",
        "password_hasher",
        "passwords",
        "web_sessions",
    }

    modules = {m.name for m in pkgutil.iter_modules(application.ports.__path__)}

    assert modules == checked, "a port was added or removed: update tests/fakes/memory.py and the list above"


def test_the_fake_clock_speaks_aware_utc():
    sut = memory.FakeClock(datetime(2025, 3, 1, tzinfo=UTC), monotonic=5.0)
    sut.advance(1.5)

    assert sut.now() == datetime(2025, 3, 1, 0, 0, 1, 500_000, tzinfo=UTC)
    assert sut.monotonic() == 6.5
    with pytest.raises(ValueError):
        sut.set_now(datetime(2025, 3, 1))  # naive
    with pytest.raises(ValueError):
        sut.advance(-1)
