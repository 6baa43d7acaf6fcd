"""The composition root's payment wiring: Stripe Checkout when both settings are set, closed with the
container; otherwise purchases unavailable, naming what is missing. Every new use case resolves."""

from pathlib import Path

import pytest

from application.ports.payments import PaymentGateway
from application.use_cases.credit_statement import ShowCredits
from application.use_cases.purchases import HandlePaymentWebhook, ListCreditPackages, StartCheckout
from application.use_cases.redemption_codes import (
    IssueRedemptionCodes,
    ListRedemptionCodes,
    RedeemCode,
    RevokeRedemptionCode,
)
from domain.payments import CreditPackages
from infrastructure.payments.stripe_checkout import StripeCheckoutPayments
from infrastructure.payments.unconfigured import UnconfiguredPayments
from interfaces.lifecycle import Lifecycle
from interfaces.migrations import run_migrations
from interfaces.providers import make_container
from interfaces.settings import load_settings

USE_CASES = (
    ShowCredits,
    ListCreditPackages,
    StartCheckout,
    HandlePaymentWebhook,
    IssueRedemptionCodes,
    ListRedemptionCodes,
    RedeemCode,
    RevokeRedemptionCode,
)


async def _container(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    settings = load_settings({"SLUICE_DATA_DIR": str(tmp_path), "SLUICE_UPSTREAM_URL": "http://127.0.0.1:9", **env})
    await run_migrations(settings.database_url)
    return make_container(settings)


async def test_with_both_settings_purchases_go_through_stripe_and_close_with_the_container(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    original = StripeCheckoutPayments.aclose

    async def spy(self: StripeCheckoutPayments) -> None:
        closed.append("stripe")
        await original(self)

    monkeypatch.setattr(StripeCheckoutPayments, "aclose", spy)
    container = await _container(
        tmp_path, SLUICE_STRIPE_SECRET_KEY="sk_test_1", SLUICE_STRIPE_WEBHOOK_SECRET="whsec_1"
    )
    await container.get(Lifecycle)
    assert isinstance(await container.get(PaymentGateway), StripeCheckoutPayments)  # type: ignore[type-abstract]
    for use_case in USE_CASES:
        await container.get(use_case)
    assert (await container.get(ListCreditPackages)).execute().available
    assert (await container.get(CreditPackages)) == CreditPackages()
    await container.close()
    assert closed == ["stripe"]


async def test_without_them_purchases_are_unavailable_and_say_why(tmp_path: Path) -> None:
    container = await _container(tmp_path, STRIPE_SECRET_KEY="sk_test_1")
    try:
        payments = await container.get(PaymentGateway)  # type: ignore[type-abstract]
        assert isinstance(payments, UnconfiguredPayments)
        offer = (await container.get(ListCreditPackages)).execute()
        assert not offer.available and offer.missing == ("SLUICE_STRIPE_WEBHOOK_SECRET",)
    finally:
        await container.close()
