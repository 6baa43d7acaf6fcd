"""Buying credits with fakes: checkouts are recorded, and only a verified, matching event grants, once."""

import logging

import pytest

from application.use_cases.credit_statement import ShowCredits
from application.use_cases.purchases import (
    HandlePaymentWebhook,
    ListCreditPackages,
    StartCheckout,
    WebhookOutcome,
)
from domain.credits import EntryKind, grant_entry
from domain.errors import InvalidRequest, NotFound, PaymentProviderFailed, PaymentsUnavailable
from domain.payments import (
    BUILTIN_PACKAGES,
    CheckoutStatus,
    CreditPackage,
    CreditPackages,
    PaymentEvent,
    PaymentEventKind,
    RefusalReason,
)
from tests.fakes.memory import FakeClock, InMemoryCreditLedger
from tests.fakes.payments import (
    GOOD_SIGNATURE,
    OLD_SIGNATURE,
    InMemoryCheckoutStore,
    InMemoryCreditHistory,
    ScriptedPayments,
    webhook_body,
)

CREDIT = 1_000_000


class World:
    def __init__(self, missing: tuple[str, ...] = ()) -> None:
        self.clock = FakeClock()
        self.packages = CreditPackages()
        self.payments = ScriptedPayments(missing)
        self.checkouts = InMemoryCheckoutStore()
        self.ledger = InMemoryCreditLedger()
        self.start = StartCheckout(self.packages, self.payments, self.checkouts, self.clock)
        self.webhook = HandlePaymentWebhook(self.payments, self.checkouts, self.ledger, self.clock)

    async def checkout(self, package: str = "p25", account: str = "acct_1") -> str:
        session = await self.start.execute(account, package, "https://gw/credits?checkout=success", "https://gw/credits")
        return session.session_id

    async def deliver(self, session_id: str, signature: str = GOOD_SIGNATURE, **fields):  # type: ignore[no-untyped-def]
        checkout = await self.checkouts.get(session_id)
        event = {
            "event_id": "evt_1",
            "kind": PaymentEventKind.COMPLETED,
            "session_id": session_id,
            "paid": True,
            "amount_cents": checkout.amount_cents if checkout else 500,
            "currency": "usd",
            "account_ref": checkout.account_id if checkout else None,
            **fields,
        }
        return await self.webhook.execute(webhook_body(PaymentEvent(**event)), signature)


def test_the_credits_spec_packages_are_built_in():
    offered = [(p.id, p.amount_cents, p.credits_micros, p.bonus_micros) for p in BUILTIN_PACKAGES]
    assert offered == [
        ("p5", 500, 5 * CREDIT, 0),
        ("p10", 1000, 10 * CREDIT, 0),
        ("p25", 2500, 25 * CREDIT, 2_500_000),
        ("p50", 5000, 50 * CREDIT, 7_500_000),
        ("p100", 10000, 100 * CREDIT, 20 * CREDIT),
    ]
    assert CreditPackages().get("p50").total_micros == 57_500_000
    with pytest.raises(NotFound):
        CreditPackages().get("p7")


@pytest.mark.parametrize(
    ("price", "credits", "bonus"),
    [(0, CREDIT, 0), (1_234_567, CREDIT, 0), (CREDIT, -1, 0), (CREDIT, 0, 0)],
)
def test_a_package_is_whole_cents_and_gives_something(price: int, credits: int, bonus: int):
    with pytest.raises(InvalidRequest):
        CreditPackage("x", price, credits, bonus)


def test_package_ids_are_unique():
    with pytest.raises(InvalidRequest):
        CreditPackages((CreditPackage("a", CREDIT, CREDIT), CreditPackage("a", 2 * CREDIT, CREDIT)))


async def test_a_checkout_is_recorded_with_the_package_price_before_the_buyer_leaves():
    world = World()
    session_id = await world.checkout("p25")
    recorded = await world.checkouts.get(session_id)
    assert recorded is not None
    assert (recorded.account_id, recorded.package_id, recorded.amount_cents, recorded.currency) == (
        "acct_1",
        "p25",
        2500,
        "usd",
    )
    assert recorded.credits_micros == 27_500_000 and recorded.status is CheckoutStatus.OPEN
    assert world.payments.requests[0].package.id == "p25"
    assert world.ledger.all_entries == []  # starting a checkout grants nothing


async def test_unknown_package_unavailable_payments_and_provider_failures_record_nothing():
    world = World()
    with pytest.raises(NotFound):
        await world.checkout("p7")
    world.payments.failure = "card processor down"
    with pytest.raises(PaymentProviderFailed):
        await world.checkout("p5")
    assert await world.checkouts.for_account("acct_1", 10) == []

    off = World(missing=("SLUICE_STRIPE_SECRET_KEY",))
    assert not ListCreditPackages(off.packages, off.payments).execute().available
    assert ListCreditPackages(world.packages, world.payments).execute().available
    with pytest.raises(PaymentsUnavailable) as refused:
        await off.checkout("p5")
    assert refused.value.missing == ("SLUICE_STRIPE_SECRET_KEY",)


async def test_a_paid_event_grants_the_recorded_credits_once_however_often_it_comes():
    world = World()
    session_id = await world.checkout("p25")
    first = await world.deliver(session_id)
    again = await world.deliver(session_id)
    other_event = await world.deliver(session_id, event_id="evt_2", kind=PaymentEventKind.ASYNC_SUCCEEDED)
    assert (first.outcome, again.outcome, other_event.outcome) == (
        WebhookOutcome.GRANTED,
        WebhookOutcome.ALREADY_GRANTED,
        WebhookOutcome.ALREADY_GRANTED,
    )
    assert await world.ledger.balance("acct_1") == 27_500_000
    [entry] = world.ledger.all_entries
    assert entry.kind is EntryKind.GRANT and entry.idempotency_key == f"checkout:{session_id}"
    assert (await world.checkouts.get(session_id)).status is CheckoutStatus.PAID  # type: ignore[union-attr]


async def test_a_grant_written_before_a_crash_is_not_repeated_by_the_retry():
    world = World()
    session_id = await world.checkout("p10")
    checkout = await world.checkouts.get(session_id)
    assert checkout is not None
    # The grant went through but the process died before marking the checkout paid.
    await world.ledger.append(grant_entry("acct_1", checkout.credits_micros, checkout.grant_key, world.clock.now()))
    result = await world.deliver(session_id)
    assert result.outcome is WebhookOutcome.ALREADY_GRANTED
    assert await world.ledger.balance("acct_1") == 10 * CREDIT
    assert (await world.checkouts.get(session_id)).status is CheckoutStatus.PAID  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "change",
    [{"amount_cents": 1}, {"amount_cents": None}, {"currency": "eur"}, {"account_ref": "acct_someone_else"}],
)
async def test_an_event_that_does_not_match_the_record_grants_nothing(change, caplog: pytest.LogCaptureFixture):
    world = World()
    session_id = await world.checkout("p100")
    with caplog.at_level(logging.ERROR, "sluice.payments"):
        result = await world.deliver(session_id, **change)
    assert result.outcome is WebhookOutcome.MISMATCHED
    assert "does not match its record" in caplog.text
    assert await world.ledger.balance("acct_1") == 0
    assert (await world.checkouts.get(session_id)).status is CheckoutStatus.MISMATCHED  # type: ignore[union-attr]
    # A correct event later does not undo the refusal: an operator looks at it.
    assert (await world.deliver(session_id)).outcome is WebhookOutcome.IGNORED
    assert await world.ledger.balance("acct_1") == 0


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        ("t=1,v1=forged", RefusalReason.BAD_SIGNATURE),
        (None, RefusalReason.BAD_SIGNATURE),
        (OLD_SIGNATURE, RefusalReason.STALE),
    ],
)
async def test_forged_or_replayed_webhooks_grant_nothing(signature, reason):
    world = World()
    session_id = await world.checkout("p5")
    result = await world.deliver(session_id, signature=signature)
    assert (result.outcome, result.refusal) == (WebhookOutcome.REFUSED, reason)
    assert world.ledger.all_entries == []
    assert (await world.checkouts.get(session_id)).status is CheckoutStatus.OPEN  # type: ignore[union-attr]


async def test_unpaid_unknown_failed_and_expired_checkouts_grant_nothing():
    world = World()
    pending = await world.checkout("p5")
    assert (await world.deliver(pending, paid=False)).outcome is WebhookOutcome.PENDING
    assert (await world.checkouts.get(pending)).status is CheckoutStatus.OPEN  # type: ignore[union-attr]
    assert (await world.deliver(pending, kind=PaymentEventKind.ASYNC_SUCCEEDED)).outcome is WebhookOutcome.GRANTED

    assert (await world.deliver("cs_not_ours")).outcome is WebhookOutcome.IGNORED
    assert (await world.deliver("", kind=PaymentEventKind.OTHER)).outcome is WebhookOutcome.IGNORED
    failed = await world.checkout("p5")
    expired = await world.checkout("p5")
    for session_id, kind in ((failed, PaymentEventKind.ASYNC_FAILED), (expired, PaymentEventKind.EXPIRED)):
        assert (await world.deliver(session_id, kind=kind, paid=False)).outcome is WebhookOutcome.CLOSED
    assert (await world.checkouts.get(failed)).status is CheckoutStatus.FAILED  # type: ignore[union-attr]
    assert (await world.checkouts.get(expired)).status is CheckoutStatus.EXPIRED  # type: ignore[union-attr]
    assert await world.ledger.balance("acct_1") == 5 * CREDIT  # the one that went through


async def test_an_unconfigured_gateway_refuses_every_webhook():
    world = World(missing=("SLUICE_STRIPE_WEBHOOK_SECRET",))
    result = await world.webhook.execute(b"{}", GOOD_SIGNATURE)
    assert (result.outcome, result.refusal) == (WebhookOutcome.REFUSED, RefusalReason.UNCONFIGURED)


async def test_the_statement_pages_the_ledger_newest_first():
    world = World()
    for n in range(5):
        await world.ledger.append(grant_entry("acct_1", CREDIT, f"g{n}", world.clock.now()))
    await world.ledger.append(grant_entry("acct_2", CREDIT, "other", world.clock.now()))
    await world.checkout("p5")
    show = ShowCredits(world.ledger, InMemoryCreditHistory(world.ledger), world.checkouts)
    first = await show.execute("acct_1", page=1, page_size=2)
    assert first.balance_micros == 5 * CREDIT
    assert [e.idempotency_key for e in first.entries] == ["g4", "g3"] and first.has_more
    last = await show.execute("acct_1", page=3, page_size=2)
    assert [e.idempotency_key for e in last.entries] == ["g0"] and not last.has_more
    assert [c.package_id for c in first.checkouts] == ["p5"]
    with pytest.raises(InvalidRequest):
        await show.execute("acct_1", page=0)
