"""POST /webhooks/stripe: the payment provider's signed events, the only thing that grants bought credits.

Answers: 400 when the signature is not ours or too old (nothing was read; Stripe retries, and a
forger learns nothing); 503 when payments are not configured (Stripe retries until they are); 200
for every verified event, applied or not (a refused mismatch is logged, not retried: a retry would
carry the same amount). A failure on our side (the database down) is a 500, so Stripe retries.
"""

from dishka import FromDishka
from litestar import Controller, Request, Response, post

from application.use_cases.purchases import HandlePaymentWebhook, WebhookOutcome
from domain.payments import RefusalReason
from interfaces.http.injection import inject

_REFUSALS = {
    RefusalReason.BAD_SIGNATURE: "The Stripe-Signature header does not match this payload.",
    RefusalReason.STALE: "The signature is too old: a replayed webhook is not applied.",
    RefusalReason.MALFORMED: "The payload is not a Stripe event.",
    RefusalReason.UNCONFIGURED: "Payments are not configured on this gateway (SLUICE_STRIPE_WEBHOOK_SECRET).",
}


class PaymentWebhooks(Controller):
    include_in_schema = False

    @post("/webhooks/stripe", status_code=200)
    @inject
    async def stripe(self, request: Request, handle: FromDishka[HandlePaymentWebhook]) -> Response:
        body = await request.body()  # the raw bytes: the signature covers them exactly
        result = await handle.execute(body, request.headers.get("stripe-signature"))
        if result.outcome is WebhookOutcome.REFUSED:
            assert result.refusal is not None
            status = 503 if result.refusal is RefusalReason.UNCONFIGURED else 400
            return Response({"error": _REFUSALS[result.refusal]}, status_code=status, media_type="application/json")
        return Response({"received": True, "outcome": result.outcome.value}, media_type="application/json")
