"""Buying a package on /credits (the fake Stripe's checkout, then its signed webhook, delivered twice)
and redeeming a code an operator issued, in Chromium."""

import re

import httpx
from playwright.sync_api import Page, expect

from tests.fakes.stripe import FakeStripe, checkout_event, signature_header
from tests.integration.browser.conftest import WEBHOOK_SECRET
from tests.integration.browser.people import Person
from tests.integration.browser.steps import sign_up
from tests.integration.e2e.harness import Gateway


def _deliver(gateway: Gateway, payload: bytes) -> str:
    signed = {"Content-Type": "application/json", "Stripe-Signature": signature_header(payload, WEBHOOK_SECRET)}
    response = httpx.post(gateway.root + "/webhooks/stripe", content=payload, headers=signed, timeout=15)
    assert response.status_code == 200, response.text
    return response.json()["outcome"]


def _balance(page: Page) -> str:
    return page.get_by_role("region", name="Balance").locator(".balance strong").inner_text()


def test_a_package_bought_is_credited_once_however_often_the_webhook_comes(
    gateway: Gateway, stripe: FakeStripe, page: Page
) -> None:
    sign_up(page, Person.new(gateway, "buyer").email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Credits")
    assert _balance(page) == "0"

    page.get_by_role("button", name="Buy 27.5 credits for $25.00").click()
    expect(page).to_have_url(re.compile("^" + re.escape(stripe.base_url) + r"/pay/cs_test_[0-9a-f]+$"))
    expect(page).to_have_title("Fake Stripe Checkout")
    session = stripe.sessions[page.url.rsplit("/", 1)[1]]

    page.goto("/credits?checkout=success")  # where Stripe sends the buyer back: it grants nothing
    expect(page.get_by_role("status").first).to_contain_text("as soon as the payment is confirmed")
    assert _balance(page) == "0"
    expect(page.get_by_role("row").filter(has_text="awaiting payment")).to_have_count(1)

    payload = checkout_event(session)
    assert [_deliver(gateway, payload), _deliver(gateway, payload)] == ["granted", "already_granted"]
    page.goto("/credits")
    assert _balance(page) == "27.5"
    history = page.get_by_role("region", name="History")
    expect(history.get_by_role("row").filter(has_text="+27.5")).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="paid, credits added")).to_have_count(1)


def test_a_code_is_redeemed_once(gateway: Gateway, page: Page) -> None:
    code = gateway.cli("codes", "issue", "--credits", "5", "--uses", "10").stdout.strip()
    sign_up(page, Person.new(gateway, "redeemer").email)
    page.goto("/credits")

    page.get_by_label("Code", exact=True).fill(code.lower())  # case does not matter
    page.get_by_role("button", name="Redeem").click()
    expect(page.get_by_role("status").first).to_contain_text("Code redeemed: 5 credits added")
    assert _balance(page) == "5"

    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Redeem").click()
    expect(page.get_by_role("alert")).to_contain_text("redeemed that code already")
    page.goto("/credits")
    assert _balance(page) == "5"
    expect(
        page.get_by_role("region", name="History").get_by_role("row").filter(has_text="redeemed code")
    ).to_have_count(1)
