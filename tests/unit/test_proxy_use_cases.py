import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from fractions import Fraction

import pytest

from application.gateway_request import GatewayRequest
from application.ports.upstream import UpstreamError, UpstreamReply
from application.use_cases.proxy_model_request import ProxyModelRequest
from application.use_cases.stream_model_request import Relayed, StreamModelRequest
from domain.credits import EntryKind
from domain.errors import InsufficientCredits, ModelNotAllowed, RateLimited, SpendCapReached, UnknownModel
from domain.plans import Endpoint, Period, Plan, Pricing, PricingMode, RatePolicy, SpendCap
from domain.pricing import Usage
from domain.usage import Outcome, UsageRecord
from interfaces.http.openai.stream import error_frame, sse_body
from tests.fakes.memory import (
    CHEAP_MODEL,
    DONE_FRAME,
    FakeModelCatalog,
    Harness,
    content_frame,
    usage_frame,
)

MODEL = CHEAP_MODEL.id
BODY = b"x" * 300  # estimated at 100 prompt tokens; with max_tokens=50 the worst case is 200 micros
PREPAID = Plan("prepaid", prepaid=True)
OK_BODY = b'{"id":"gen-1","choices":[{"message":{"content":"hi"}}]}'


def chat(model: str = MODEL, *, stream: bool = False) -> GatewayRequest:
    return GatewayRequest(
        Endpoint.CHAT,
        "/chat/completions",
        model,
        BODY,
        stream=stream,
        max_tokens=50,
    )


def reply(usage: Usage | None) -> UpstreamReply:
    return UpstreamReply(200, OK_BODY, usage)


async def settled_records(h: Harness) -> list[UsageRecord]:
    await h.tasks.drain()
    await h.recorder.flush()
    return h.usage.records


def openai_frames(relayed: Relayed, wants_usage: bool = False) -> AsyncIterator[bytes]:
    """The relay as the OpenAI family sends it on."""
    assert relayed.events is not None
    return sse_body(relayed.events, wants_usage)


async def collect(frames: AsyncIterator[bytes]) -> list[bytes]:
    return [frame async for frame in frames]


def proxy(h: Harness) -> ProxyModelRequest:
    return ProxyModelRequest(h.meter, h.upstream, h.tasks)


def streamer(h: Harness) -> StreamModelRequest:
    return StreamModelRequest(h.meter, h.upstream, h.tasks)


# ================================================================================ ProxyModelRequest


async def test_proxy_success_reserves_then_settles_exactly_the_charge():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    h.upstream.script_reply(reply(Usage(90, 40, 170)))
    sut = proxy(h)

    result = await sut.execute(principal, chat())

    assert result.reply == reply(Usage(90, 40, 170))
    assert result.error is None
    assert await h.ledger.balance(principal.account.id) == 800  # the reservation, settlement not yet run
    (record,) = await settled_records(h)
    assert await h.ledger.balance(principal.account.id) == 830
    assert [(e.kind, e.amount_micros) for e in await h.ledger.entries(principal.account.id)] == [
        (EntryKind.GRANT, 1_000),
        (EntryKind.RESERVE, -200),
        (EntryKind.SETTLE, 30),
    ]
    assert (record.id, record.outcome, record.http_status) == (result.request_id, Outcome.OK, 200)
    assert (record.prompt_tokens, record.completion_tokens, record.cost_micros, record.charged_micros) == (
        90,
        40,
        170,
        170,
    )
    assert record.streamed is False
    assert [(c.method, c.path, c.body) for c in h.upstream.calls] == [("complete", "/chat/completions", BODY)]


async def test_proxy_returns_the_rate_decision_for_the_headers():
    h = Harness()
    principal = await h.principal()  # the default plan: 150 per 30 minutes
    h.upstream.script_reply(reply(Usage(1, 1, 3)))

    result = await proxy(h).execute(principal, chat())

    assert result.decision is not None
    assert (result.decision.limit, result.decision.remaining) == (150, 149)


async def test_proxy_model_not_allowed_never_reaches_the_upstream():
    h = Harness()
    principal = await h.principal(Plan("narrow", allowed_models=frozenset({"other/model"})))

    with pytest.raises(ModelNotAllowed):
        await proxy(h).execute(principal, chat())

    assert h.upstream.calls == []
    assert await settled_records(h) == []


async def test_proxy_model_not_allowed_by_the_key():
    h = Harness()
    principal = await h.principal(allowed_models=frozenset({"other/model"}))

    with pytest.raises(ModelNotAllowed):
        await proxy(h).execute(principal, chat())

    assert h.upstream.calls == []


async def test_proxy_unknown_model_is_refused_only_when_the_catalogue_is_known():
    h = Harness()
    principal = await h.principal()

    with pytest.raises(UnknownModel):
        await proxy(h).execute(principal, chat("nobody/nothing"))
    assert h.upstream.calls == []

    h.catalog.is_known = False
    h.upstream.script_reply(reply(Usage(1, 1, 3)))
    result = await proxy(h).execute(principal, chat("nobody/nothing"))
    assert result.reply is not None
    assert len(h.upstream.calls) == 1


async def test_proxy_rate_limited_carries_the_decision():
    h = Harness()
    principal = await h.principal(Plan("one", policies=(RatePolicy("chat", frozenset({Endpoint.CHAT}), 1, 10),)))
    h.upstream.script_reply(reply(Usage(1, 1, 3)))
    await proxy(h).execute(principal, chat())

    with pytest.raises(RateLimited) as caught:
        await proxy(h).execute(principal, chat())

    assert caught.value.bucket == "chat"
    assert caught.value.decision.allowed is False
    assert caught.value.decision.retry_after == pytest.approx(10.0)
    assert len(h.upstream.calls) == 1


async def test_proxy_insufficient_balance_reserves_nothing_and_calls_nothing():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=199)

    with pytest.raises(InsufficientCredits) as caught:
        await proxy(h).execute(principal, chat())

    assert (caught.value.required, caught.value.available) == (200, 199)
    assert [e.kind for e in h.ledger.all_entries] == [EntryKind.GRANT]
    assert await h.ledger.balance(principal.account.id) == 199
    assert h.upstream.calls == []
    assert await settled_records(h) == []


async def test_proxy_upstream_error_releases_and_records_without_charge():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    failure = UpstreamError(503, "No endpoints available", "status", b'{"error":{}}')
    h.upstream.script_reply(failure)

    result = await proxy(h).execute(principal, chat())

    assert result.error is failure
    assert result.reply is None
    (record,) = await settled_records(h)
    assert await h.ledger.balance(principal.account.id) == 1_000
    assert [(e.kind, e.amount_micros) for e in await h.ledger.entries(principal.account.id)] == [
        (EntryKind.GRANT, 1_000),
        (EntryKind.RESERVE, -200),
        (EntryKind.RELEASE, 200),
    ]
    assert (record.outcome, record.http_status, record.charged_micros, record.cost_micros) == (
        Outcome.UPSTREAM_ERROR,
        503,
        0,
        0,
    )


class _HangingUpstream:
    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def complete(self, path: str, body: bytes) -> UpstreamReply:
        self.entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def stream(self, path: str, body: bytes):
        self.entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@pytest.mark.parametrize("streaming", [False, True])
async def test_a_call_cancelled_while_upstream_is_released(streaming):
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    upstream = _HangingUpstream()
    sut = StreamModelRequest(h.meter, upstream, h.tasks) if streaming else ProxyModelRequest(h.meter, upstream, h.tasks)

    task = asyncio.create_task(sut.execute(principal, chat(stream=streaming)))
    await upstream.entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    (record,) = await settled_records(h)
    assert (record.outcome, record.http_status, record.charged_micros) == (Outcome.UPSTREAM_ERROR, 499, 0)
    assert await h.ledger.balance(principal.account.id) == 1_000


class _BrokenUpstream:
    async def complete(self, path: str, body: bytes) -> UpstreamReply:
        raise RuntimeError("a bug in an adapter")

    async def stream(self, path: str, body: bytes):
        raise RuntimeError("a bug in an adapter")


@pytest.mark.parametrize("streaming", [False, True])
async def test_an_unexpected_upstream_failure_releases_the_reservation(streaming):
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    upstream = _BrokenUpstream()
    sut = StreamModelRequest(h.meter, upstream, h.tasks) if streaming else ProxyModelRequest(h.meter, upstream, h.tasks)

    with pytest.raises(RuntimeError):
        await sut.execute(principal, chat(stream=streaming))

    (record,) = await settled_records(h)
    assert (record.outcome, record.charged_micros) == (Outcome.UPSTREAM_ERROR, 0)
    assert await h.ledger.balance(principal.account.id) == 1_000
    assert h.meter.unsettled == 0


async def test_proxy_without_reported_usage_bills_the_estimate():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    h.upstream.script_reply(reply(None))

    await proxy(h).execute(principal, chat())

    (record,) = await settled_records(h)
    # 100 estimated prompt tokens at $1/M, nothing generated that we know of
    assert (record.prompt_tokens, record.completion_tokens, record.charged_micros) == (100, 0, 100)
    assert await h.ledger.balance(principal.account.id) == 900


async def test_proxy_per_request_pricing_charges_exactly_the_configured_price():
    plan = Plan("flat", prepaid=True, pricing=Pricing(PricingMode.PER_REQUEST, per_request_micros=1_234))
    h = Harness()
    principal = await h.principal(plan, balance_micros=10_000)
    h.upstream.script_reply(reply(Usage(5_000, 5_000, 999_999)))

    await proxy(h).execute(principal, chat())

    (record,) = await settled_records(h)
    assert record.charged_micros == 1_234
    assert record.cost_micros == 999_999
    assert await h.ledger.balance(principal.account.id) == 10_000 - 1_234


async def test_proxy_multiplier_is_applied_with_a_ceiling():
    plan = Plan("markup", prepaid=True, pricing=Pricing(multiplier=Fraction(6, 5)))
    h = Harness()
    principal = await h.principal(plan, balance_micros=10_000)
    h.upstream.script_reply(reply(Usage(10, 10, 101)))

    await proxy(h).execute(principal, chat())

    (record,) = await settled_records(h)
    assert record.charged_micros == 122  # 121.2 rounds up
    assert await h.ledger.balance(principal.account.id) == 10_000 - 122


async def test_proxy_spend_cap_seeded_from_usage_then_reached():
    plan = Plan("capped", spend_caps=(SpendCap(Period.DAY, 1_000),))
    h = Harness()
    principal = await h.principal(plan)
    # an earlier process charged 900 today; this one has no counter yet
    h.upstream.script_reply(reply(Usage(1, 1, 900)))
    await proxy(h).execute(principal, chat())
    await settled_records(h)
    h.spend.evict_all()  # the counter store lost it (restart, eviction)
    h.spend.seeds.clear()

    h.upstream.script_reply(reply(Usage(1, 1, 100)))
    await proxy(h).execute(principal, chat())  # 900 < 1000: admitted
    key = f"spend:{principal.account.id}:day:20250115"
    assert h.spend.seeds == [(key, 900, 36 * 3600)]
    await settled_records(h)
    assert await h.spend.spent(key) == 1_000

    with pytest.raises(SpendCapReached):
        await proxy(h).execute(principal, chat())
    assert len(h.upstream.calls) == 2

    h.clock.advance(timedelta(hours=12).total_seconds())  # a new UTC day
    h.upstream.script_reply(reply(Usage(1, 1, 1)))
    await proxy(h).execute(principal, chat())


# =============================================================================== StreamModelRequest

HELLO = content_frame("Hello")  # 5 characters
WORLD = content_frame(" world!")  # 7 characters
USAGE = usage_frame(100, 3, 106)


async def test_stream_relays_frames_and_settles_from_the_usage_frame():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    h.upstream.script_stream([HELLO, WORLD, USAGE, DONE_FRAME])
    sut = streamer(h)

    relayed = await sut.execute(principal, chat(stream=True))
    frames = await collect(openai_frames(relayed))

    assert relayed.error is None
    assert frames == [HELLO.raw, WORLD.raw, DONE_FRAME.raw]  # the usage frame was not asked for
    (record,) = await settled_records(h)
    (upstream,) = h.upstream.opened
    assert upstream.closed is True
    assert (record.id, record.outcome, record.http_status, record.streamed) == (
        relayed.request_id,
        Outcome.OK,
        200,
        True,
    )
    assert (record.prompt_tokens, record.completion_tokens, record.charged_micros) == (100, 3, 106)
    assert await h.ledger.balance(principal.account.id) == 1_000 - 106


async def test_stream_forwards_the_usage_frame_when_the_client_asked():
    h = Harness()
    principal = await h.principal()
    h.upstream.script_stream([HELLO, USAGE, DONE_FRAME])

    relayed = await streamer(h).execute(principal, chat(stream=True))

    assert await collect(openai_frames(relayed, wants_usage=True)) == [HELLO.raw, USAGE.raw, DONE_FRAME.raw]
    (record,) = await settled_records(h)
    assert record.charged_micros == 106


async def test_stream_stops_at_done():
    h = Harness()
    principal = await h.principal()
    h.upstream.script_stream([HELLO, DONE_FRAME, WORLD])

    relayed = await streamer(h).execute(principal, chat(stream=True))

    assert await collect(openai_frames(relayed)) == [HELLO.raw, DONE_FRAME.raw]
    (record,) = await settled_records(h)
    assert record.outcome is Outcome.OK
    assert h.upstream.opened[0].closed is True


async def test_stream_client_disconnect_closes_upstream_and_bills_what_was_generated_once():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    h.upstream.script_stream([HELLO, WORLD, USAGE, DONE_FRAME])

    relayed = await streamer(h).execute(principal, chat(stream=True))
    frames = openai_frames(relayed)
    assert await anext(frames) == HELLO.raw
    await frames.aclose()  # the client went away

    (record,) = await settled_records(h)
    (upstream,) = h.upstream.opened
    assert (upstream.closed, upstream.close_calls) == (True, 1)
    assert upstream.yielded == [HELLO]
    assert (record.outcome, record.http_status) == (Outcome.CLIENT_DISCONNECTED, 499)
    # 100 estimated prompt tokens + ceil(5 / 4) = 2 completion tokens = 100 + 4 micro-dollars
    assert (record.prompt_tokens, record.completion_tokens, record.charged_micros) == (100, 2, 104)
    assert [(e.kind, e.amount_micros) for e in await h.ledger.entries(principal.account.id)] == [
        (EntryKind.GRANT, 1_000),
        (EntryKind.RESERVE, -200),
        (EntryKind.SETTLE, 96),
    ]
    assert await h.ledger.balance(principal.account.id) == 896
    assert h.ledger.duplicates == []
    assert len(h.recorder.accepted) == 1


async def test_stream_client_disconnect_before_the_first_frame_still_settles():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    h.upstream.script_stream([HELLO, DONE_FRAME])

    relayed = await streamer(h).execute(principal, chat(stream=True))
    assert relayed.events is not None
    await relayed.events.aclose()  # the response never started

    (record,) = await settled_records(h)
    assert h.upstream.opened[0].closed is True
    assert (record.outcome, record.charged_micros) == (Outcome.CLIENT_DISCONNECTED, 100)
    assert await h.ledger.balance(principal.account.id) == 900


async def test_stream_client_disconnect_after_the_usage_frame_bills_the_reported_usage():
    h = Harness()
    principal = await h.principal()
    h.upstream.script_stream([HELLO, USAGE, DONE_FRAME])

    relayed = await streamer(h).execute(principal, chat(stream=True))
    frames = openai_frames(relayed, wants_usage=True)
    assert [await anext(frames), await anext(frames)] == [HELLO.raw, USAGE.raw]
    await frames.aclose()

    (record,) = await settled_records(h)
    assert (record.outcome, record.completion_tokens, record.charged_micros) == (
        Outcome.CLIENT_DISCONNECTED,
        3,
        106,
    )


async def test_stream_broken_midway_yields_an_error_frame_and_bills_what_arrived():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    h.upstream.script_stream([HELLO, WORLD, UpstreamError(502, "upstream went away", "network"), DONE_FRAME])

    relayed = await streamer(h).execute(principal, chat(stream=True))
    frames = await collect(openai_frames(relayed))

    assert frames == [HELLO.raw, WORLD.raw, error_frame("upstream went away", 502)]
    assert frames[-1] == (
        b'data: {"error": {"message": "upstream went away", "type": "upstream_error", "code": 502}}\n\n'
    )
    (record,) = await settled_records(h)
    assert h.upstream.opened[0].closed is True
    assert (record.outcome, record.http_status) == (Outcome.STREAM_BROKEN, 502)
    # 100 estimated prompt tokens + ceil(12 / 4) = 3 completion tokens = 106 micro-dollars
    assert (record.prompt_tokens, record.completion_tokens, record.charged_micros) == (100, 3, 106)
    assert await h.ledger.balance(principal.account.id) == 894


async def test_stream_that_cannot_be_opened_is_released():
    h = Harness()
    principal = await h.principal(PREPAID, balance_micros=1_000)
    failure = UpstreamError(429, "Provider rate limited", "status")
    h.upstream.script_stream(failure)

    relayed = await streamer(h).execute(principal, chat(stream=True))

    assert relayed.error is failure
    assert relayed.events is None
    (record,) = await settled_records(h)
    assert (record.outcome, record.http_status, record.charged_micros) == (Outcome.UPSTREAM_ERROR, 429, 0)
    assert await h.ledger.balance(principal.account.id) == 1_000


async def test_stream_admission_errors_open_no_stream():
    h = Harness(catalog=FakeModelCatalog([CHEAP_MODEL]))
    principal = await h.principal(PREPAID)

    with pytest.raises(InsufficientCredits):
        await streamer(h).execute(principal, chat(stream=True))
    with pytest.raises(UnknownModel):
        await streamer(h).execute(principal, chat("nobody/nothing", stream=True))

    assert h.upstream.calls == []


async def test_stream_per_request_pricing_and_multiplier():
    flat = Plan("flat", prepaid=True, pricing=Pricing(PricingMode.PER_REQUEST, per_request_micros=500))
    markup = Plan("markup", prepaid=True, pricing=Pricing(multiplier=Fraction(3, 2)))
    h = Harness()
    ada = await h.principal(flat, email="ada@example.com", balance_micros=1_000)
    bob = await h.principal(markup, email="bob@example.com", balance_micros=1_000)
    h.upstream.script_stream([HELLO, USAGE, DONE_FRAME])
    h.upstream.script_stream([HELLO, USAGE, DONE_FRAME])

    await collect(openai_frames(await streamer(h).execute(ada, chat(stream=True))))
    await collect(openai_frames(await streamer(h).execute(bob, chat(stream=True))))

    records = {r.account_id: r for r in await settled_records(h)}
    assert records[ada.account.id].charged_micros == 500
    assert records[bob.account.id].charged_micros == 159  # 106 * 1.5
    assert await h.ledger.balance(ada.account.id) == 500
    assert await h.ledger.balance(bob.account.id) == 841
