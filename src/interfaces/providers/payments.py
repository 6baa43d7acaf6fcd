"""The payment provider: Stripe Checkout when both its settings are there, else purchases unavailable."""

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from application.ports.payments import PaymentGateway
from infrastructure.payments.stripe_checkout import StripeCheckoutPayments
from infrastructure.payments.unconfigured import UnconfiguredPayments
from interfaces.providers._closing import close_quietly
from interfaces.settings import Settings, payments_unconfigured


class PaymentsProvider(Provider):
    scope = Scope.APP

    @provide
    async def payments(self, settings: Settings) -> AsyncIterator[PaymentGateway]:
        missing = payments_unconfigured(settings)
        gateway: StripeCheckoutPayments | UnconfiguredPayments
        if missing:
            gateway = UnconfiguredPayments(missing)
        else:
            assert settings.stripe_secret_key is not None and settings.stripe_webhook_secret is not None
            gateway = StripeCheckoutPayments(
                settings.stripe_secret_key, settings.stripe_webhook_secret, api_base=settings.stripe_api_base
            )
        yield gateway
        await close_quietly(gateway.aclose)
