"""Buying credits and redeeming codes on a real `sluice serve`, through its /credits page and webhook.

One gateway with Stripe configured (pointed at the project's fake Stripe), signed in as real users
with httpx; webhooks are built and signed here the way Stripe does it. The session-wide embedded
gateway (no Stripe settings) shows what an unconfigured instance answers.
"""

import json
import re
import time
from collections.abc import Iterator
from itertools import count

import httpx
import pytest

from tests.fakes.stripe import FakeStripe, checkout_event, signature_header, start_fake_stripe
from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.web_session import csrf_of, sign_up

STRIPE_KEY = "sk_test_e2e_fake"
WEBHOOK_SECRET = "whsec_e2e_secret"
PASSWORD = "correct horse battery staple"
_people = count(1)


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    with start_fake_stripe(STRIPE_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
def shop(upstream: FakeUpstreamHandle, stripe: FakeStripe) -> Iterator[Gateway]:
    gw = Gateway(
        upstream.base_url,
        extra_env={
            "SLUICE_STRIPE_SECRET_KEY": STRIPE_KEY,
            "SLUICE_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SLUICE_STRIPE_API_BASE": stripe.base_url,
        },
    ).start()
    try:
        yield gw
    finally:
        gw.stop()


class Buyer:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.email = f"buyer{next(_people)}-{time.monotonic_ns()}@example.org"
        self.client = httpx.Client(base_url=gateway.root, timeout=15)
        sign_up(self.client, gateway.root, self.email, PASSWORD)
        self.csrf = csrf_of(self.client, gateway.root)

    def page(self, query: str = "") -> str:
        response = self.client.get("/credits" + query)
        assert response.status_code == 200, response.text[:500]
        return response.text

    def post(self, path: str, **form: str) -> httpx.Response:
        return self.client.post(path, data={"_csrf": self.csrf, **form}, follow_redirects=False)

    def balance(self) -> float:
        """The balance /credits shows."""
        match = re.search(r'class="balance"><strong>([^<]+)</strong>', self.page())
        assert match
        return float(match.group(1))

    def durable_balance(self) -> float:
        """The ledger's own figure, as the operator's CLI reads it."""
        return json.loads(self.gateway.cli("credits", "balance", self.email, "--json").stdout)["balance_usd"]


def deliver(gateway: Gateway, payload: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json", **({"Stripe-Signature": signature} if signature else {})}
    return httpx.post(gateway.root + "/webhooks/stripe", content=payload, headers=headers, timeout=15)


def buy(buyer: Buyer, stripe: FakeStripe, package: str) -> dict:
    response = buyer.post("/credits/buy", package=package)
    assert response.status_code == 303, response.text[:500]
    location = response.headers["location"]
    assert location.startswith(stripe.base_url + "/pay/cs_test_")
    assert httpx.get(location, timeout=5).status_code == 200  # the fake's hosted checkout page
    return stripe.sessions[location.rsplit("/", 1)[1]]


def test_the_page_offers_the_spec_packages_and_buying_sends_the_buyer_to_stripe(
    shop: Gateway, stripe: FakeStripe
) -> None:
    buyer = Buyer(shop)
    text = buyer.page()
    for price in ("$5.00", "$10.00", "$25.00", "$50.00", "$100.00"):
        assert price in text
    assert "+ 2.5 bonus</strong> (10%)" in text and "+ 20 bonus</strong> (20%)" in text
    assert text.count('action="/credits/buy"') == 5
    assert 'aria-label="Buy 27.5 credits for $25.00"' in text

    session = buy(buyer, stripe, "p25")
    assert (session["amount_total"], session["currency"], session["metadata"]["package_id"]) == (2500, "usd", "p25")
    assert session["success_url"] == f"{shop.root}/credits?checkout=success"
    assert session["client_reference_id"].startswith("acct_")

    returned = buyer.page("?checkout=success")
    assert "credits appear here as soon as the payment is confirmed" in returned
    assert buyer.balance() == 0  # coming back from the checkout grants nothing
    assert "awaiting payment" in returned


def test_a_paid_webhook_delivered_twice_changes_the_balance_once(shop: Gateway, stripe: FakeStripe) -> None:
    buyer = Buyer(shop)
    session = buy(buyer, stripe, "p25")
    payload = checkout_event(session)
    first = deliver(shop, payload, signature_header(payload, WEBHOOK_SECRET))
    again = deliver(shop, payload, signature_header(payload, WEBHOOK_SECRET))
    assert (first.status_code, first.json()["outcome"]) == (200, "granted")
    assert (again.status_code, again.json()["outcome"]) == (200, "already_granted")
    later = checkout_event(session, event_type="checkout.session.async_payment_succeeded")
    assert deliver(shop, later, signature_header(later, WEBHOOK_SECRET)).json()["outcome"] == "already_granted"

    assert buyer.balance() == 27.5
    assert buyer.durable_balance() == 27.5
    text = buyer.page()
    assert "paid, credits added" in text
    assert "+27.5" in text and "bought package p25" in text


def test_forged_and_replayed_webhooks_are_refused_and_grant_nothing(shop: Gateway, stripe: FakeStripe) -> None:
    buyer = Buyer(shop)
    session = buy(buyer, stripe, "p10")
    payload = checkout_event(session)
    forged = deliver(shop, payload, signature_header(payload, "whsec_someone_else"))
    unsigned = deliver(shop, payload, None)
    replayed = deliver(shop, payload, signature_header(payload, WEBHOOK_SECRET, int(time.time()) - 3600))
    inflated = payload.replace(b'"amount_total": 1000', b'"amount_total": 100000')
    tampered = deliver(shop, inflated, signature_header(payload, WEBHOOK_SECRET))
    for response in (forged, unsigned, replayed, tampered):
        assert response.status_code == 400, response.text
    assert "too old" in replayed.json()["error"]
    assert buyer.balance() == 0


def test_an_event_whose_amount_differs_from_the_package_grants_nothing(shop: Gateway, stripe: FakeStripe) -> None:
    buyer = Buyer(shop)
    session = buy(buyer, stripe, "p100")
    cheap = checkout_event(session, amount_total=100)  # signed with our secret, but not what was sold
    answered = deliver(shop, cheap, signature_header(cheap, WEBHOOK_SECRET))
    assert (answered.status_code, answered.json()["outcome"]) == (200, "mismatched")  # Stripe need not retry
    euros = checkout_event(buy(buyer, stripe, "p5"), currency="eur")
    assert deliver(shop, euros, signature_header(euros, WEBHOOK_SECRET)).json()["outcome"] == "mismatched"
    assert buyer.balance() == 0
    assert buyer.page().count("held for review") == 2
    assert "does not match its record" in shop.log()


def test_forms_without_the_csrf_token_or_a_session_are_refused(shop: Gateway) -> None:
    buyer = Buyer(shop)
    assert buyer.client.post("/credits/buy", data={"package": "p5"}).status_code == 403
    assert buyer.client.post("/credits/redeem", data={"code": "x", "_csrf": "wrong"}).status_code == 403
    anonymous = httpx.get(shop.root + "/credits", follow_redirects=False, timeout=5)
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login?next=/credits")
    unknown = buyer.post("/credits/buy", package="p7")
    assert unknown.status_code == 404 and "no credit package" in unknown.text


def _issue(gateway: Gateway, *args: str) -> str:
    return gateway.cli("codes", "issue", *args).stdout.strip()


def _redeem(buyer: Buyer, code: str) -> httpx.Response:
    return buyer.post("/credits/redeem", code=code)


def test_redemption_codes_multi_use_single_use_expired_revoked_and_once_per_account(shop: Gateway) -> None:
    expiring = _issue(shop, "--credits", "1", "--expires", "2s")
    expires_at = time.monotonic() + 2
    multi = _issue(shop, "--credits", "5", "--uses", "2")
    single, withdrawn = json.loads(_issue(shop, "--credits", "2.5", "--count", "2", "--json"))
    ada, bob, cyd = Buyer(shop), Buyer(shop), Buyer(shop)

    done = _redeem(ada, multi.lower())
    assert (done.status_code, done.headers["location"]) == (303, "/credits?redeemed=5")
    assert "Code redeemed: 5 credits added" in ada.page("?redeemed=5")
    twice = _redeem(ada, multi)
    assert twice.status_code == 400 and "redeemed that code already" in twice.text
    assert _redeem(bob, multi).status_code == 303
    used_up = _redeem(cyd, multi)
    assert used_up.status_code == 400 and "used as many times as it allows" in used_up.text

    assert _redeem(cyd, single["code"]).status_code == 303
    assert "used as many times" in _redeem(ada, single["code"]).text

    listed = {row["id"]: row for row in json.loads(shop.cli("codes", "list", "--json").stdout)}
    assert listed[withdrawn["id"]]["status"] == "active" and "code" not in listed[withdrawn["id"]]
    shop.cli("codes", "revoke", withdrawn["id"])
    assert "withdrawn" in _redeem(ada, withdrawn["code"]).text
    assert "not a valid redemption code" in _redeem(ada, "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ").text

    time.sleep(max(0.0, expires_at - time.monotonic()) + 0.2)
    assert "has expired" in _redeem(bob, expiring).text

    assert (ada.balance(), bob.balance(), cyd.balance()) == (5, 5, 2.5)
    assert "redeemed code" in ada.page()


def test_an_unconfigured_gateway_says_purchases_are_unavailable(gateway: Gateway) -> None:
    buyer = Buyer(gateway)
    text = buyer.page()
    assert "Buying credits is not available on this gateway" in text
    assert "SLUICE_STRIPE_SECRET_KEY and SLUICE_STRIPE_WEBHOOK_SECRET" in text
    assert 'action="/credits/buy"' not in text and "$25.00" in text  # the packages shown, without Buy
    refused = buyer.post("/credits/buy", package="p5")
    assert refused.status_code == 503 and "not available" in refused.text
    webhook = deliver(gateway, b"{}", "t=1,v1=00")
    assert webhook.status_code == 503
