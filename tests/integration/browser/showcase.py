"""A lived-in gateway for the page checks and the screenshots: Ada with keys, requests to a few
models, a bought package and a redeemed code; an admin's session; entries in the audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import openai

from tests.fakes.stripe import FakeStripe, checkout_event, signature_header
from tests.integration.browser.conftest import WEBHOOK_SECRET
from tests.integration.browser.people import PASSWORD, Person
from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.web_session import csrf_of, sign_in, sign_up

# Requests per model, so that the usage charts and the admin's tables have bars of different lengths.
TRAFFIC = {"openai/gpt-4o-mini": 4, "qwen/qwen3-32b": 2, "anthropic/claude-sonnet-4": 1}


@dataclass(frozen=True)
class Showcase:
    user: Person
    user_session: str
    user_account_id: str
    admin_session: str


def _buy(client: httpx.Client, gateway: Gateway, stripe: FakeStripe, package: str) -> None:
    bought = client.post("/credits/buy", data={"_csrf": csrf_of(client, gateway.root), "package": package})
    assert bought.status_code == 303, bought.text[:300]
    payload = checkout_event(stripe.sessions[bought.headers["location"].rsplit("/", 1)[1]])
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature_header(payload, WEBHOOK_SECRET)}
    assert httpx.post(gateway.root + "/webhooks/stripe", content=payload, headers=headers).status_code == 200


def build_showcase(gateway: Gateway, stripe: FakeStripe, admin: Person) -> Showcase:
    ada = Person(gateway, "ada@example.org")
    with httpx.Client(base_url=gateway.root, timeout=15) as client:
        sign_up(client, gateway.root, ada.email, PASSWORD)
        laptop, _ = (client.post("/api/keys", json={"name": name}).json()["key"] for name in ("laptop", "ci-runner"))
        sdk = openai.OpenAI(api_key=laptop, base_url=gateway.url("/v1"), max_retries=0)
        for model, times in TRAFFIC.items():
            for _ in range(times):
                sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello there"}])
        _buy(client, gateway, stripe, "p25")
        code = gateway.cli("codes", "issue", "--credits", "5").stdout.strip()
        redeemed = client.post("/credits/redeem", data={"_csrf": csrf_of(client, gateway.root), "code": code})
        assert redeemed.status_code == 303, redeemed.text[:300]
        user_session = client.cookies["sluice_session"]
    gateway.cli("credits", "grant", ada.email, "2.50", "--note", "welcome to the club")
    with httpx.Client(base_url=gateway.root, timeout=15) as client:
        sign_in(client, gateway.root, admin.email, PASSWORD)
        found = client.get("/admin/accounts", params={"q": ada.email}).text
        account_id = re.search(r'href="/admin/accounts/(acct_[0-9a-f]+)">' + re.escape(ada.email), found)
        assert account_id, found[:500]
        return Showcase(ada, user_session, account_id.group(1), client.cookies["sluice_session"])
