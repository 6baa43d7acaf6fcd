"""The dashboard's use cases over the in-memory fakes: limit state, overview, usage, models, docs."""

from dataclasses import replace
from datetime import date, timedelta

from application.gateway_request import GatewayRequest
from application.plan_book import PlanBook
from application.principal import Principal
from application.use_cases.allowed_models import FALLBACK_CHAT_MODEL, ListAllowedModels, PrepareDocs
from application.use_cases.limit_state import ReadLimitState
from application.use_cases.usage_dashboard import ShowOverview, ShowUsage
from domain.catalog import ModelInfo, ModelPrice
from domain.keys import issue_key
from domain.plans import Endpoint, Period, Plan, RatePolicy, SpendCap, SpendCapOverride, Subject
from domain.pricing import ListedPrice, Usage
from domain.usage import Outcome, UsageRecord
from tests.fakes.memory import CHEAP_MODEL, FakeModelCatalog, Harness

ALL = frozenset(Endpoint)
CHAT = frozenset({Endpoint.CHAT, Endpoint.EMBEDDINGS})
WATCHED = Plan(
    "watched",
    policies=(
        RatePolicy("chat", CHAT, 5, 60, Subject.ACCOUNT),
        RatePolicy("per-key", CHAT, 3, 60, Subject.KEY),
        RatePolicy("per-ip", ALL, 10, 60, Subject.IP),
    ),
    spend_caps=(SpendCap(Period.DAY, 5_000), SpendCap(Period.MONTH, 50_000)),
)
OTHER_MODEL = ModelInfo("vendor/other", ModelPrice(3_000_000, 4_000_000), context_length=32_000, name="Other")


def chat(ip: str = "203.0.113.7", model: str = CHEAP_MODEL.id) -> GatewayRequest:
    return GatewayRequest(Endpoint.CHAT, "/chat/completions", model, b"x" * 40, max_tokens=10, client_ip=ip)


class World(Harness):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.catalog.add(OTHER_MODEL)
        self.plans = PlanBook([WATCHED, Plan("narrow", allowed_models=frozenset({OTHER_MODEL.id}))])
        self.limits = ReadLimitState(self.accounts, self.keys, self.limiter, self.meter, self.plans, self.clock)

    async def call(self, principal: Principal, model: str = CHEAP_MODEL.id, ip: str = "203.0.113.7") -> None:
        admission = await self.meter.admit(principal, chat(ip, model))
        await self.meter.settle(admission, outcome=Outcome.OK, http_status=200, usage=Usage(100, 50, 1_000))

    async def second_key(self, principal: Principal) -> Principal:
        issued = issue_key(principal.account.id, "second", b"pepper", self.clock.now(), active_keys=1)
        await self.keys.add(issued.key)
        return replace(principal, key=issued.key)


async def test_limit_state_peeks_each_bucket_of_each_subject_without_spending():
    world = World()
    ada = await world.principal(WATCHED)
    second = await world.second_key(ada)
    await world.call(ada)
    await world.call(ada)
    await world.call(second)

    state = await world.limits.execute(ada.account, "203.0.113.7")
    again = await world.limits.execute(ada.account, "203.0.113.7")

    assert state == again  # looking consumed nothing
    rows = {(b.policy.name, b.key.name if b.key else b.ip): b.state.remaining for b in state.buckets}
    assert rows == {
        ("chat", None): 2,  # 5 per account, 3 used by both keys
        ("per-key", "test"): 1,
        ("per-key", "second"): 2,
        ("per-ip", "203.0.113.7"): 7,
    }
    elsewhere = await world.limits.execute(ada.account, "198.51.100.1")
    assert next(b for b in elsewhere.buckets if b.ip).state.remaining == 10
    account_bucket = state.buckets[0]
    assert account_bucket.state.limit == 5
    assert account_bucket.reset_at == world.clock.now() + timedelta(seconds=account_bucket.state.reset_after)
    assert account_bucket.state.reset_after == 36.0  # three of five 12-second intervals are taken


async def test_limit_state_shows_what_admission_will_refuse_next():
    world = World()
    ada = await world.principal(WATCHED)
    for _ in range(3):
        await world.call(ada)

    per_key = next(b for b in (await world.limits.execute(ada.account, None)).buckets if b.policy.name == "per-key")

    assert (per_key.state.allowed, per_key.state.remaining, per_key.state.retry_after) == (False, 0, 20.0)


async def test_limit_state_leaves_out_revoked_keys_and_carries_account_overrides():
    world = World()
    ada = await world.principal(WATCHED)
    second = await world.second_key(ada)
    await world.keys.revoke(second.key.id, world.clock.now())
    await world.accounts.save(ada.account.with_rate_limits((RatePolicy("chat", CHAT, 100, 60, Subject.ACCOUNT),)))

    state = await world.limits.execute(ada.account, None)  # the session's copy, older than the overrides

    assert [b.key.name for b in state.buckets if b.key] == ["test"]
    assert next(b for b in state.buckets if b.policy.name == "chat").state.limit == 100
    assert next(b for b in state.buckets if b.ip).ip == "unknown"


async def test_spend_caps_count_what_admission_counts():
    world = World()
    ada = await world.principal(WATCHED)
    # Spent earlier today, before this process knew the counter: read from the usage records.
    world.usage.write(
        UsageRecord(
            "old", ada.account.id, ada.key.id, "chat", CHEAP_MODEL.id, Outcome.OK, 200,
            1, 1, 2_000, 2_000, 1, False, world.clock.now() - timedelta(hours=1),
        )
    )  # fmt: skip
    await world.call(ada)  # charged 1_000

    caps = (await world.limits.execute(ada.account, None)).caps

    day, month = caps
    assert (day.cap.period, day.spent_micros, day.remaining_micros) == (Period.DAY, 3_000, 2_000)
    assert (month.cap.period, month.spent_micros) == (Period.MONTH, 3_000)
    assert day.resets_at.isoformat() == "2025-01-16T00:00:00+00:00"
    assert month.resets_at.isoformat() == "2025-02-01T00:00:00+00:00"


async def test_the_overview_shows_balance_today_and_limits_after_writing_what_is_pending():
    world = World()
    ada = await world.principal(WATCHED, balance_micros=7_000_000)
    world.usage.write(
        UsageRecord(
            "yesterday", ada.account.id, ada.key.id, "chat", CHEAP_MODEL.id, Outcome.OK, 200,
            9, 9, 9, 9, 1, False, world.clock.now() - timedelta(days=1),
        )
    )  # fmt: skip
    await world.call(ada)
    await world.call(ada)
    assert world.recorder.pending == 2
    sut = ShowOverview(world.usage, world.recorder, world.ledger, world.keys, world.limits, world.clock)

    overview = await sut.execute(ada.account, None)

    assert world.recorder.pending == 0
    assert overview.balance_micros == 7_000_000
    assert (overview.today.requests, overview.today.total_tokens, overview.today.charged_micros) == (2, 300, 2_000)
    assert overview.day_start.isoformat() == "2025-01-15T00:00:00+00:00"
    assert overview.active_keys == 1
    assert [b.policy.name for b in overview.limits.buckets] == ["chat", "per-key", "per-ip"]


async def test_usage_by_day_and_model_fills_empty_days_and_orders_models_by_requests():
    world = World()
    ada = await world.principal(WATCHED)
    bob = await world.principal(WATCHED, email="bob@example.com")
    await world.call(ada, OTHER_MODEL.id)
    await world.call(bob)  # someone else's: never shown to ada
    world.clock.advance(86400 * 2)  # Friday
    await world.call(ada)
    await world.call(ada)
    await world.call(ada, OTHER_MODEL.id)
    world.clock.advance(30)  # the key's bucket (3 a minute) has room again
    await world.call(ada, OTHER_MODEL.id)
    world.clock.advance(86400)
    sut = ShowUsage(world.usage, world.recorder, world.keys, world.limits, world.clock)

    report = await sut.execute(ada.account, None, days=5)

    assert report.days == [date(2025, 1, d) for d in (14, 15, 16, 17, 18)]
    assert [t.requests for t in report.per_day] == [0, 1, 0, 4, 0]
    assert report.models == [OTHER_MODEL.id, CHEAP_MODEL.id]  # most requested first
    assert [t.requests for t in report.per_model] == [3, 2]
    assert report.per_model[1].total_tokens == 300
    assert report.cells[date(2025, 1, 17), CHEAP_MODEL.id].requests == 2
    assert (report.total.requests, report.total.charged_micros) == (5, 5_000)
    assert report.since.isoformat() == "2025-01-14T00:00:00+00:00"
    assert [r.model for r in report.recent] == [
        OTHER_MODEL.id,
        OTHER_MODEL.id,
        CHEAP_MODEL.id,
        CHEAP_MODEL.id,
        OTHER_MODEL.id,
    ]
    assert {r.account_id for r in report.recent} == {ada.account.id}
    assert report.key_names == {ada.key.id: "test"}

    one_day = await sut.execute(ada.account, None, days=1, recent=2)
    assert one_day.days == [date(2025, 1, 18)] and one_day.total.requests == 0
    assert len(one_day.recent) == 2
    clamped = await sut.execute(ada.account, None, days=10_000, recent=0)
    assert len(clamped.days) == 366 and len(clamped.recent) == 1


async def test_models_are_those_the_plan_allows_in_catalogue_order():
    world = World()
    ada = await world.principal(WATCHED)
    narrow = await world.principal(Plan("narrow"), email="nora@example.com")
    sut = ListAllowedModels(world.catalog, world.plans)

    everything = await sut.execute(ada.account)
    only_one = await sut.execute(narrow.account)
    visitor = await sut.execute(None)

    assert [m.id for m in everything.chat] == [CHEAP_MODEL.id, OTHER_MODEL.id] and everything.available
    assert everything.chat[1].info.context_length == 32_000 and everything.chat[1].info.name == "Other"
    # $3 and $4 per million tokens upstream, and the plan charges the upstream's cost as it is
    assert everything.chat[1].price == ListedPrice(3_000_000, 4_000_000, 0)
    assert [m.id for m in only_one.chat] == [OTHER_MODEL.id]
    assert visitor.plan.name == "default" and len(visitor.chat) == 2
    unloaded = await ListAllowedModels(FakeModelCatalog(known=False), world.plans).execute(None)
    assert (unloaded.available, unloaded.chat) == (False, [])


async def test_docs_name_the_first_allowed_model_and_the_newest_active_key():
    world = World()
    ada = await world.principal(WATCHED)
    world.clock.advance(60)
    newer = await world.second_key(ada)
    world.clock.advance(60)
    newest = await world.second_key(ada)
    await world.keys.revoke(newest.key.id, world.clock.now())
    narrow = await world.principal(Plan("narrow"), email="nora@example.com")
    sut = PrepareDocs(ListAllowedModels(world.catalog, world.plans), world.keys, world.clock)

    mine = await sut.execute(ada.account)
    theirs = await sut.execute(narrow.account)
    visitor = await sut.execute(None)

    assert (mine.chat_model, mine.newest_key) == (CHEAP_MODEL.id, newer.key)
    assert mine.first_models == [CHEAP_MODEL.id, OTHER_MODEL.id]
    assert theirs.chat_model == OTHER_MODEL.id
    assert (visitor.chat_model, visitor.newest_key) == (CHEAP_MODEL.id, None)
    unloaded = PrepareDocs(ListAllowedModels(FakeModelCatalog(known=False), world.plans), world.keys, world.clock)
    assert (await unloaded.execute(None)).chat_model == FALLBACK_CHAT_MODEL
    assert (await unloaded.execute(narrow.account)).chat_model == OTHER_MODEL.id


async def test_limit_state_shows_the_accounts_own_spend_caps():
    world = World()
    ada = await world.principal(WATCHED)
    overrides = (SpendCapOverride(Period.DAY, 9_000), SpendCapOverride(Period.MONTH, None))
    await world.accounts.save(ada.account.with_spend_caps(overrides))

    caps = (await world.limits.execute(ada.account, None)).caps

    assert [(c.cap.period, c.cap.limit_micros) for c in caps] == [(Period.DAY, 9_000)]
