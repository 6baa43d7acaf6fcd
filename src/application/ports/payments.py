from typing import Protocol

from domain.payments import CheckoutRequest, CheckoutSession, PaymentEvent, WebhookRefusal


class PaymentGateway(Protocol):
    """A payment provider's hosted checkout, and the signed events it sends back."""

    @property
    def missing(self) -> tuple[str, ...]:
        """The settings this gateway lacks to take payments; empty when it can."""
        ...

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Starts a hosted checkout for the package; raises PaymentsUnavailable or PaymentProviderFailed."""
        ...

    def verify_webhook(self, payload: bytes, signature: str | None) -> PaymentEvent | WebhookRefusal:
        """The event in a webhook body, only if its signature is ours and recent; a refusal otherwise."""
        ...
