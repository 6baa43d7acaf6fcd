"""What a person does in the browser, step by step, through labels and button names (as they read them)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.integration.browser.people import PASSWORD

SECRET = re.compile(r"sk-sluice-[A-Za-z0-9_-]{20,}")


def sign_up(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name=email)).to_be_visible()


def sign_in(page: Page, email: str, password: str = PASSWORD, *, lands: str = "/dashboard") -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(lands) + "$"))
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name=email)).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()


def create_key(page: Page, name: str) -> str:
    """Generates a key on /keys; the secret the page shows once."""
    page.goto("/keys")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Generate key").click()
    secret = page.locator("#new-key")
    expect(secret).to_have_text(SECRET)
    return secret.inner_text().strip()
