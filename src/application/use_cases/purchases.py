"""Buying credit packages: start a hosted checkout, and grant credits from the provider's verified events."""

import logging
from dataclasses import dataclass
from enum import StrEnum

from application.ports.checkouts import CheckoutStore
from application.ports.clock import Clock
from application.ports.credits import CreditLedger
from application.ports.payments import PaymentGateway
from domain.credits import grant_entry
from domain.errors import PaymentsUnavailable
from domain.payments import (
    Checkout,
    CheckoutRequest,
    CheckoutSession,
    CheckoutStatus,
    CreditPackage,
    CreditPackages,
    PaymentEvent,
    PaymentEventKind,
    RefusalReason,
    WebhookRefusal,
    mismatches,
    new_checkout,
)

log = logging.getLogger("sluice.payments")


@dataclass(frozen=True, slots=True)
class CreditOffer:
    packages: tuple[CreditPackage, ...]
    missing: tuple[str, ...]  # settings the operator has not set; empty when packages can be bought

    @property
    def available(self) -> bool:
        return not self.missing and bool(self.packages)


class ListCreditPackages:
    def __init__(self, packages: CreditPackages, payments: PaymentGateway) -> None:
        self._packages = packages
        self._payments = payments

    def execute(self) -> CreditOffer:
        return CreditOffer(self._packages.items, self._payments.missing)


class StartCheckout:
    """Records the checkout before the buyer is sent to it: the webhook is checked against this record."""

    def __init__(
        self, packages: CreditPackages, payments: PaymentGateway, checkouts: CheckoutStore, clock: Clock
    ) -> None:
        self._packages = packages
        self._payments = payments
        self._checkouts = checkouts
        self._clock = clock

    async def execute(self, account_id: str, package_id: str, success_url: str, cancel_url: str) -> CheckoutSession:
        if self._payments.missing:
            raise PaymentsUnavailable(self._payments.missing)
        package = self._packages.get(package_id)
        session = await self._payments.create_checkout(CheckoutRequest(account_id, package, success_url, cancel_url))
        await self._checkouts.add(new_checkout(session.session_id, account_id, package, self._clock.now()))
        return session


class WebhookOutcome(StrEnum):
    REFUSED = "refused"  # not verified: nothing read, nothing granted
    GRANTED = "granted"
    ALREADY_GRANTED = "already_granted"  # a redelivery, or a second event for a paid checkout
    PENDING = "pending"  # completed with a delayed payment method: credits follow its success event
    MISMATCHED = "mismatched"  # paid, but not what was recorded: nothing granted, the checkout marked
    CLOSED = "closed"  # failed or expired, recorded
    IGNORED = "ignored"  # an event type or a checkout that is not ours to act on


@dataclass(frozen=True, slots=True)
class WebhookResult:
    outcome: WebhookOutcome
    refusal: RefusalReason | None = None
    credits_micros: int = 0


class HandlePaymentWebhook:
    """Applies a verified payment event once, however often it is delivered.

    The grant's idempotency key is the checkout's (not the event's), so `completed` and
    `async_payment_succeeded` for one session, or any redelivery, grant once. The grant is written
    before the checkout is marked paid: a crash in between leaves the checkout open, and the
    provider's retry finds the grant written and marks it then.
    """

    def __init__(self, payments: PaymentGateway, checkouts: CheckoutStore, ledger: CreditLedger, clock: Clock) -> None:
        self._payments = payments
        self._checkouts = checkouts
        self._ledger = ledger
        self._clock = clock

    async def execute(self, payload: bytes, signature: str | None) -> WebhookResult:
        verified = self._payments.verify_webhook(payload, signature)
        if isinstance(verified, WebhookRefusal):
            log.warning("payment webhook refused: %s", verified.reason.value)
            return WebhookResult(WebhookOutcome.REFUSED, verified.reason)
        event = verified
        if event.kind is PaymentEventKind.OTHER:
            return WebhookResult(WebhookOutcome.IGNORED)
        checkout = await self._checkouts.get(event.session_id)
        if checkout is None:
            # Another application's checkout on the same provider account, or one whose record was
            # never written (the buyer was never sent to it): nothing to grant, nothing to retry.
            log.warning("payment event %s for unknown checkout %s ignored", event.event_id, event.session_id)
            return WebhookResult(WebhookOutcome.IGNORED)
        if event.kind in (PaymentEventKind.COMPLETED, PaymentEventKind.ASYNC_SUCCEEDED):
            return await self._paid(checkout, event) if event.paid else WebhookResult(WebhookOutcome.PENDING)
        status = CheckoutStatus.FAILED if event.kind is PaymentEventKind.ASYNC_FAILED else CheckoutStatus.EXPIRED
        await self._checkouts.close(checkout.session_id, status, self._clock.now())
        return WebhookResult(WebhookOutcome.CLOSED)

    async def _paid(self, checkout: Checkout, event: PaymentEvent) -> WebhookResult:
        if checkout.status is CheckoutStatus.PAID:
            return WebhookResult(WebhookOutcome.ALREADY_GRANTED, credits_micros=checkout.credits_micros)
        if checkout.status is not CheckoutStatus.OPEN:
            log.warning(
                "payment event %s for checkout %s, which is %s: nothing granted",
                event.event_id,
                checkout.session_id,
                checkout.status.value,
            )
            return WebhookResult(WebhookOutcome.IGNORED)
        differences = mismatches(checkout, event)
        now = self._clock.now()
        if differences:
            log.error(
                "payment event %s for checkout %s does not match its record (%s): nothing granted",
                event.event_id,
                checkout.session_id,
                "; ".join(differences),
            )
            await self._checkouts.close(checkout.session_id, CheckoutStatus.MISMATCHED, now)
            return WebhookResult(WebhookOutcome.MISMATCHED)
        note = f"bought package {checkout.package_id} (checkout {checkout.session_id})"
        entry = grant_entry(checkout.account_id, checkout.credits_micros, checkout.grant_key, now, note)
        written = await self._ledger.append(entry)
        await self._checkouts.close(checkout.session_id, CheckoutStatus.PAID, now)
        outcome = WebhookOutcome.GRANTED if written else WebhookOutcome.ALREADY_GRANTED
        if written:
            log.info("checkout %s paid: %d micro-credits granted", checkout.session_id, checkout.credits_micros)
        return WebhookResult(outcome, credits_micros=checkout.credits_micros)
