"""Signing up, out and in with a password, and in through an OpenID Connect provider, in Chromium."""

import re

from playwright.sync_api import BrowserContext, Page, expect

from tests.integration.browser.people import PASSWORD, Person
from tests.integration.browser.steps import sign_in, sign_out, sign_up
from tests.integration.e2e.harness import Gateway
from tests.oidc_provider import MockProvider


def test_sign_up_lands_signed_in_then_sign_out_and_back_in(gateway: Gateway, page: Page) -> None:
    person = Person.new(gateway, "newcomer")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_role("link", name="Sign up").first.click()

    sign_up(page, person.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    cookie = next(c for c in page.context.cookies() if c["name"] == "sluice_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    sign_out(page)
    expect(page).to_have_url(re.compile(r"/login\?signed_out=out$"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert not [c for c in page.context.cookies() if c["name"] == "sluice_session"]
    page.goto("/keys")
    expect(page).to_have_url(re.compile(r"/login\?next=/keys$"))  # signed out means signed out

    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")

    sign_in(page, person.email, PASSWORD, lands="/keys")  # the page asked for first
    expect(page.get_by_role("heading", level=1)).to_have_text("API keys")


def test_sign_in_through_the_openid_provider(
    gateway: Gateway, provider: MockProvider, context: BrowserContext, page: Page
) -> None:
    provider.set_user("grace", email="grace@example.org", email_verified=True)
    page.goto("/login")
    page.get_by_role("link", name="Sign in with Club SSO").click()

    expect(page).to_have_url(re.compile("^" + re.escape(provider.issuer) + "/oauth2/authorize"))
    page.get_by_placeholder("sub").fill("grace")  # the provider's own form (it has no label of its own)
    page.get_by_role("button", name="Authorize").click()

    expect(page).to_have_url(gateway.root + "/dashboard")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="grace@example.org")).to_be_visible()
    page.goto("/account")
    expect(page.get_by_role("row", name="Email grace@example.org")).to_be_visible()
