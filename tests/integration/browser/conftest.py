"""One real `sluice serve` (with the fake upstream, the fake Stripe and a local OpenID provider) and
one headless Chromium for every browser test in this package; a fresh browser context per test.

Chromium is Debian's (/usr/bin/chromium): Playwright's own browser downloads are impossible here. The
context refuses every request that would leave the loopback interface (the OpenID mock's page asks
a CDN for its stylesheet), so a page that tried to load something from elsewhere would show it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright

from tests.fakes.stripe import FakeStripe, start_fake_stripe
from tests.fakes.upstream import FakeUpstreamHandle, start_fake_upstream
from tests.integration.browser.people import PASSWORD, Person, set_password
from tests.integration.e2e.harness import Gateway
from tests.oidc_provider import MockProvider, running_provider

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in the CI container
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
STRIPE_KEY = "sk_test_browser_fake"
WEBHOOK_SECRET = "whsec_browser_secret"
_OFF_LOOPBACK = re.compile(r"^(?!(https?|wss?)://127\.0\.0\.1[:/])(?!data:|blob:|about:)")


@pytest.fixture(scope="package")
def upstream() -> Iterator[FakeUpstreamHandle]:
    with start_fake_upstream(api_key="sk-upstream-test-key", chunks=5) as handle:
        yield handle


@pytest.fixture(scope="package")
def stripe() -> Iterator[FakeStripe]:
    with start_fake_stripe(STRIPE_KEY) as fake:
        yield fake


@pytest.fixture(scope="package")
def provider() -> Iterator[MockProvider]:
    with running_provider() as mock:
        yield mock


@pytest.fixture(scope="package")
def gateway(upstream: FakeUpstreamHandle, stripe: FakeStripe, provider: MockProvider) -> Iterator[Gateway]:
    gw = Gateway(
        upstream.base_url,
        extra_env={
            "SLUICE_STRIPE_SECRET_KEY": STRIPE_KEY,
            "SLUICE_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SLUICE_STRIPE_API_BASE": stripe.base_url,
            "SLUICE_OIDC_ISSUER": provider.issuer,
            "SLUICE_OIDC_CLIENT_ID": "sluice-browser",
            "SLUICE_OIDC_CLIENT_SECRET": "browser-secret",
            "SLUICE_OIDC_NAME": "Club SSO",
            # Every browser signs in from 127.0.0.1: the per-IP attempt limit is not what these test.
            "SLUICE_SIGNIN_ATTEMPTS_PER_IP": "10000",
        },
    ).start()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


def _refuse(route: Route) -> None:
    route.abort("blockedbyclient")


def open_context(browser: Browser, gateway: Gateway, **options) -> BrowserContext:
    """A context of its own (cookies, storage) with the gateway as base URL, kept on loopback."""
    context = browser.new_context(base_url=gateway.root, viewport=DESKTOP, **options)
    context.route(_OFF_LOOPBACK, _refuse)
    return context


@pytest.fixture
def context(browser: Browser, gateway: Gateway) -> Iterator[BrowserContext]:
    ctx = open_context(browser, gateway)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="package")
def admin(gateway: Gateway) -> Person:
    """An operator's account, made on the command line: created as an admin, its password from stdin."""
    person = Person(gateway, "ops@example.org")
    gateway.cli("accounts", "create", person.email, "--admin")
    set_password(gateway, person.email, PASSWORD)
    return person
