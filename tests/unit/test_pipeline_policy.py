"""The pipeline's steps that families share: names resolved, clients turned away, input moderated,
a family's tariff priced with the plan, images billed for what was served."""

from fractions import Fraction

import pytest

from application.gateway_request import GatewayRequest
from application.ports.upstream import UpstreamError, UpstreamReply
from application.use_cases.charged_call import ProxyChargedRequest
from application.use_cases.generate_images import GenerateImages
from application.use_cases.proxy_model_request import ProxyModelRequest
from domain.client_policy import ClientPolicy
from domain.errors import ClientBlocked, InputFlagged, InsufficientCredits, UnknownModel
from domain.images import GeneratedImage
from domain.plans import Endpoint, Plan, Pricing
from domain.pricing import Tariff, Usage
from domain.usage import Outcome
from tests.fakes.image_store import InMemoryImageStore
from tests.fakes.memory import CHEAP_MODEL, FakeModelCatalog, Harness
from tests.fakes.moderator import ScriptedModerator

OK = b'{"id":"gen-1","choices":[{"message":{"content":"hi"}}]}'
CREDIT = 1_000_000


def call(model: str = CHEAP_MODEL.id, **extra) -> GatewayRequest:  # type: ignore[no-untyped-def]
    return GatewayRequest(
        Endpoint.CHAT,
        "/chat/completions",
        model,
        f'{{"model":"{model}"}}'.encode(),
        with_model=lambda served: f'{{"model":"{served}"}}'.encode(),
        **extra,
    )


async def records(h: Harness):  # type: ignore[no-untyped-def]
    await h.tasks.drain()
    await h.recorder.flush()
    return h.usage.records


async def test_a_name_resolves_to_the_served_id_which_goes_upstream_and_is_recorded():
    catalog = FakeModelCatalog([CHEAP_MODEL], aliases={"cheap": CHEAP_MODEL.id})
    h = Harness(catalog=catalog, resolve_names=True)
    for reply in [UpstreamReply(200, OK, Usage(1, 1))]:
        h.upstream.script_reply(reply)
    await ProxyModelRequest(h.meter, h.upstream, h.tasks).execute(await h.principal(), call("cheap"))
    assert h.upstream.calls[-1].body == f'{{"model":"{CHEAP_MODEL.id}"}}'.encode()
    (record,) = await records(h)
    assert record.model == CHEAP_MODEL.id
    with pytest.raises(UnknownModel):
        await h.meter.admit(await h.principal(email="b@example.com"), call("nobody-serves-this"))


async def test_a_blocked_client_is_refused_before_anything_is_counted():
    h = Harness(client_policy=ClientPolicy(("Cursor",)))
    principal = await h.principal()
    with pytest.raises(ClientBlocked) as refused:
        await h.meter.admit(principal, call(client_marks=("Mozilla/5.0 cursor/1.2",)))
    assert refused.value.entry == "Cursor"
    assert h.limiter.calls == []
    await h.meter.admit(principal, call(client_marks=("curl/8",)))


async def test_a_moderating_plan_refuses_flagged_input_and_passes_the_rest():
    moderator = ScriptedModerator("kill")
    h = Harness(moderator=moderator)
    principal = await h.principal(Plan("careful", moderate_input=True))
    with pytest.raises(InputFlagged) as flagged:
        await h.meter.admit(principal, call(input_texts=lambda: ["I want to kill them."]))
    assert flagged.value.categories == ("violence",)
    await h.meter.admit(principal, call(input_texts=lambda: ["Hello"]))
    unmoderated = await h.principal(email="c@example.com")
    await h.meter.admit(unmoderated, call(input_texts=lambda: ["kill"]))
    assert moderator.calls == [["I want to kill them."], ["Hello"]]


async def test_a_flat_family_price_bills_the_balance_whatever_the_plan_and_is_stated():
    h = Harness()
    principal = await h.principal(balance_micros=5 * CREDIT)  # the default plan: not prepaid
    for reply in [UpstreamReply(200, OK, Usage(1, 1, 3))] * 2:
        h.upstream.script_reply(reply)
    charged = ProxyChargedRequest(ProxyModelRequest(h.meter, h.upstream, h.tasks), h.ledger)
    batch = Tariff(flat_micros=CREDIT, multiplier=Fraction(2), bills_balance=True)
    one = await charged.execute(principal, call(tariff=Tariff(flat_micros=CREDIT, bills_balance=True)))
    two = await charged.execute(principal, call(tariff=batch))
    assert (one.charged_micros, one.balance_micros) == (CREDIT, 4 * CREDIT)
    assert (two.charged_micros, two.balance_micros) == (2 * CREDIT, 2 * CREDIT)
    poor = await h.principal(email="poor@example.com")
    with pytest.raises(InsufficientCredits) as refused:
        await charged.execute(poor, call(tariff=batch))
    assert (refused.value.required, refused.value.available) == (2 * CREDIT, 0)


async def test_a_failed_call_on_a_flat_price_is_not_charged():
    h = Harness()
    principal = await h.principal(balance_micros=CREDIT)
    for reply in [UpstreamError(502, "down", "status_5xx")]:
        h.upstream.script_reply(reply)
    charged = ProxyChargedRequest(ProxyModelRequest(h.meter, h.upstream, h.tasks), h.ledger)
    result = await charged.execute(principal, call(tariff=Tariff(flat_micros=CREDIT, bills_balance=True)))
    assert result.proxied.error is not None and result.charged_micros == 0
    await h.tasks.drain()
    assert await h.ledger.balance(principal.account.id) == CREDIT


async def test_images_are_billed_per_image_delivered():
    h = Harness()
    plan = Plan("pictures", prepaid=True, pricing=Pricing(per_image_micros=40_000))
    principal = await h.principal(plan, balance_micros=CREDIT)
    for reply in [UpstreamReply(200, b"one", Usage(1, 1)), UpstreamError(502, "x", "status_5xx")]:
        h.upstream.script_reply(reply)
    store = InMemoryImageStore(h.clock)
    generate = GenerateImages(h.meter, h.upstream, h.tasks, store, h.clock)

    def read(body: bytes) -> list[GeneratedImage]:
        return [GeneratedImage(b"\x89PNG\r\n\x1a\n", "image/png", revised_prompt=body.decode())]

    request = GatewayRequest(Endpoint.IMAGES, "/chat/completions", CHEAP_MODEL.id, b"{}", tariff=Tariff(images=2))
    made = await generate.execute(principal, request, count=2, read=read, keep=True)
    assert len(made.images) == 1 and made.images[0].token in store.images
    (record,) = await records(h)
    assert (record.outcome, record.charged_micros) == (Outcome.OK, 40_000)  # two asked, one delivered
    assert await h.ledger.balance(principal.account.id) == CREDIT - 40_000
