"""`PaymentGateway` on Stripe Checkout, through the official SDK and its async httpx client.

The SDK's HTTPXClient is built without sync methods, so a call that would block the event loop
fails instead of blocking; checkouts are created with `create_async`. Webhooks are verified with
the SDK's `construct_event` (HMAC-SHA256 over `{t}.{payload}`, constant-time compare, a timestamp
at most `tolerance` seconds old).
"""

import logging
from typing import Any

import stripe

from domain.credits import credits_text
from domain.errors import PaymentProviderFailed
from domain.payments import (
    CheckoutRequest,
    CheckoutSession,
    PaymentEvent,
    PaymentEventKind,
    RefusalReason,
    WebhookRefusal,
)

log = logging.getLogger("sluice.payments")

_KINDS = {
    "checkout.session.completed": PaymentEventKind.COMPLETED,
    "checkout.session.async_payment_succeeded": PaymentEventKind.ASYNC_SUCCEEDED,
    "checkout.session.async_payment_failed": PaymentEventKind.ASYNC_FAILED,
    "checkout.session.expired": PaymentEventKind.EXPIRED,
}


class StripeCheckoutPayments:
    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        *,
        api_base: str | None = None,
        tolerance_seconds: int = stripe.Webhook.DEFAULT_TOLERANCE,
        timeout_seconds: float = 20.0,
    ) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout_seconds, allow_sync_methods=False)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            http_client=self._http,
            max_network_retries=2,  # the SDK sends an idempotency key with a retried POST
        )
        self._webhook_secret = webhook_secret
        self._tolerance = tolerance_seconds

    @property
    def missing(self) -> tuple[str, ...]:
        return ()

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        package = request.package
        name = f"{credits_text(package.credits_micros)} credits"
        if package.bonus_micros:
            name += f" + {credits_text(package.bonus_micros)} bonus"
        params: Any = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": package.amount_cents,
                        "product_data": {"name": name},
                    },
                }
            ],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.account_id,
            "metadata": {"account_id": request.account_id, "package_id": package.id},
        }
        try:
            session = await self._client.v1.checkout.sessions.create_async(params)
        except stripe.StripeError as exc:
            log.error("Stripe refused to create a checkout: %s", exc.user_message or type(exc).__name__)
            raise PaymentProviderFailed(exc.user_message or "") from None
        if not session.id or not session.url:
            raise PaymentProviderFailed("the checkout came back without an id or a URL")
        return CheckoutSession(session.id, session.url)

    def verify_webhook(self, payload: bytes, signature: str | None) -> PaymentEvent | WebhookRefusal:
        try:
            text = payload.decode("utf-8")  # Stripe signs UTF-8 text; anything else is not its body
        except UnicodeDecodeError:
            return WebhookRefusal(RefusalReason.BAD_SIGNATURE)
        try:
            event = self._client.construct_event(text, signature, self._webhook_secret, self._tolerance)
        except stripe.SignatureVerificationError:
            replayed = self._signed(payload, signature)
            return WebhookRefusal(RefusalReason.STALE if replayed else RefusalReason.BAD_SIGNATURE)
        except ValueError:  # not JSON, or not an event: signed with our secret, but nothing to act on
            return WebhookRefusal(RefusalReason.MALFORMED)
        try:
            return _event(event.to_dict())
        except (KeyError, TypeError, ValueError, AttributeError):
            return WebhookRefusal(RefusalReason.MALFORMED)

    def _signed(self, payload: bytes, signature: str | None) -> bool:
        """Whether the signature is ours apart from its age (so the refusal can say it was a replay)."""
        try:
            return bool(stripe.WebhookSignature.verify_header(payload, signature, self._webhook_secret, None))
        except (stripe.SignatureVerificationError, ValueError):
            return False

    async def aclose(self) -> None:
        await self._http.close_async()


def _event(raw: dict[str, Any]) -> PaymentEvent:
    kind = _KINDS.get(str(raw["type"]), PaymentEventKind.OTHER)
    if kind is PaymentEventKind.OTHER:
        return PaymentEvent(event_id=str(raw["id"]), kind=kind)
    session = raw["data"]["object"]
    amount = session.get("amount_total")
    return PaymentEvent(
        event_id=str(raw["id"]),
        kind=kind,
        session_id=str(session["id"]),
        paid=session.get("payment_status") == "paid",
        amount_cents=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=str(session.get("currency") or ""),
        account_ref=session.get("client_reference_id"),
    )
