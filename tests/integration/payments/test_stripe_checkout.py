"""The Stripe Checkout adapter against the project's fake Stripe (a real HTTP server on loopback).

Webhooks are signed here the way Stripe signs them (tests/fakes/stripe.py, not the SDK), so the
adapter's verification is checked against the scheme, not against itself.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from domain.errors import PaymentProviderFailed
from domain.payments import BUILTIN_PACKAGES, CheckoutRequest, PaymentEvent, PaymentEventKind, RefusalReason
from infrastructure.payments.stripe_checkout import StripeCheckoutPayments
from tests.fakes.stripe import FakeStripe, checkout_event, signature_header, start_fake_stripe

KEY = "sk_test_sluice_fake"
SECRET = "whsec_test_secret"
P25 = BUILTIN_PACKAGES[2]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with start_fake_stripe(KEY) as server:
        yield server


@pytest.fixture
async def payments(fake: FakeStripe) -> AsyncIterator[StripeCheckoutPayments]:
    adapter = StripeCheckoutPayments(KEY, SECRET, api_base=fake.base_url)
    yield adapter
    await adapter.aclose()


def request(account: str = "acct_1") -> CheckoutRequest:
    return CheckoutRequest(account, P25, "https://gw.example/credits?checkout=success", "https://gw.example/credits")


async def test_a_checkout_is_created_with_the_package_price_and_the_account(
    payments: StripeCheckoutPayments, fake: FakeStripe
) -> None:
    session = await payments.create_checkout(request())
    assert session.session_id.startswith("cs_test_")
    assert session.redirect_url == f"{fake.base_url}/pay/{session.session_id}"
    sent = fake.calls[-1]
    assert sent["mode"] == "payment"
    assert (sent["line_items[0][price_data][unit_amount]"], sent["line_items[0][price_data][currency]"]) == (
        "2500",
        "usd",
    )
    assert sent["line_items[0][price_data][product_data][name]"] == "25 credits + 2.5 bonus"
    assert (sent["client_reference_id"], sent["metadata[package_id]"]) == ("acct_1", "p25")
    assert sent["success_url"] == "https://gw.example/credits?checkout=success"


async def test_creating_checkouts_never_blocks_the_event_loop(payments: StripeCheckoutPayments) -> None:
    """Ten checkouts at once finish together while a ticker keeps running: the calls are awaited."""
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    sessions = await asyncio.gather(*(payments.create_checkout(request(f"acct_{n}")) for n in range(10)))
    stop.set()
    await task
    assert len({s.session_id for s in sessions}) == 10
    assert ticks > 10


async def test_a_refused_key_or_an_unreachable_stripe_is_a_provider_failure(fake: FakeStripe) -> None:
    wrong = StripeCheckoutPayments("sk_test_wrong", SECRET, api_base=fake.base_url)
    gone = StripeCheckoutPayments(KEY, SECRET, api_base="http://127.0.0.1:9", timeout_seconds=2)
    try:
        with pytest.raises(PaymentProviderFailed):
            await wrong.create_checkout(request())
        fake.fail_next(400)
        right = StripeCheckoutPayments(KEY, SECRET, api_base=fake.base_url)
        with pytest.raises(PaymentProviderFailed):
            await right.create_checkout(request())
        await right.aclose()
        with pytest.raises(PaymentProviderFailed):
            await gone.create_checkout(request())
    finally:
        await wrong.aclose()
        await gone.aclose()


async def test_a_signed_event_is_read_with_the_amounts_stripe_states(
    payments: StripeCheckoutPayments, fake: FakeStripe
) -> None:
    session = await payments.create_checkout(request())
    body = checkout_event(fake.sessions[session.session_id], event_id="evt_1")
    event = payments.verify_webhook(body, signature_header(body, SECRET))
    assert event == PaymentEvent(
        event_id="evt_1",
        kind=PaymentEventKind.COMPLETED,
        session_id=session.session_id,
        paid=True,
        amount_cents=2500,
        currency="usd",
        account_ref="acct_1",
    )
    later = checkout_event(
        fake.sessions[session.session_id], event_type="checkout.session.async_payment_succeeded", amount_total=1
    )
    read = payments.verify_webhook(later, signature_header(later, SECRET))
    assert isinstance(read, PaymentEvent)
    assert (read.kind, read.amount_cents) == (PaymentEventKind.ASYNC_SUCCEEDED, 1)  # matching is the use case's job
    unpaid = checkout_event(fake.sessions[session.session_id], payment_status="unpaid")
    assert payments.verify_webhook(unpaid, signature_header(unpaid, SECRET)).paid is False  # type: ignore[union-attr]
    other = json.dumps({"id": "evt_x", "object": "event", "type": "customer.created", "data": {"object": {}}}).encode()
    assert payments.verify_webhook(other, signature_header(other, SECRET)).kind is PaymentEventKind.OTHER  # type: ignore[union-attr]


async def test_forged_replayed_and_malformed_webhooks_are_refused(
    payments: StripeCheckoutPayments, fake: FakeStripe
) -> None:
    session = await payments.create_checkout(request())
    body = checkout_event(fake.sessions[session.session_id])
    header = signature_header(body, SECRET)
    tampered = body.replace(b'"amount_total": 2500', b'"amount_total": 250000')
    assert tampered != body
    cases = {
        "other secret": (body, signature_header(body, "whsec_attacker")),
        "tampered body": (tampered, header),
        "no header": (body, None),
        "garbage header": (body, "v1=abc"),
        "replayed": (body, signature_header(body, SECRET, int(time.time()) - 3600)),
        "not JSON": (b"{not json", signature_header(b"{not json", SECRET)),
        "not UTF-8": (b"\xff\xfe", "t=1,v1=00"),
    }
    reasons = {name: payments.verify_webhook(p, s).reason for name, (p, s) in cases.items()}  # type: ignore[union-attr]
    assert reasons == {
        "other secret": RefusalReason.BAD_SIGNATURE,
        "tampered body": RefusalReason.BAD_SIGNATURE,
        "no header": RefusalReason.BAD_SIGNATURE,
        "garbage header": RefusalReason.BAD_SIGNATURE,
        "replayed": RefusalReason.STALE,
        "not JSON": RefusalReason.MALFORMED,
        "not UTF-8": RefusalReason.BAD_SIGNATURE,
    }
