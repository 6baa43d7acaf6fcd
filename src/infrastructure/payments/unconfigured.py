"""`PaymentGateway` when no provider is configured: purchases are unavailable, naming the settings that enable them."""

from domain.errors import PaymentsUnavailable
from domain.payments import CheckoutRequest, CheckoutSession, PaymentEvent, RefusalReason, WebhookRefusal


class UnconfiguredPayments:
    def __init__(self, missing: tuple[str, ...]) -> None:
        self._missing = missing

    @property
    def missing(self) -> tuple[str, ...]:
        return self._missing

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        raise PaymentsUnavailable(self._missing)

    def verify_webhook(self, payload: bytes, signature: str | None) -> PaymentEvent | WebhookRefusal:
        return WebhookRefusal(RefusalReason.UNCONFIGURED)

    async def aclose(self) -> None:
        """Holds nothing."""
