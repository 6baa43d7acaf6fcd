"""An admin, made on the command line, bans an account on /admin: the banned person's session and key
stop working, and the admin reads the entry in the audit log, all in Chromium."""

import re

import openai
from playwright.sync_api import Browser, Page, expect

from tests.integration.browser.conftest import open_context
from tests.integration.browser.people import Person
from tests.integration.browser.steps import create_key, sign_in, sign_up
from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.web_waiting import eventually


def _chat(gateway: Gateway, key: str) -> None:
    client = openai.OpenAI(api_key=key, base_url=gateway.url("/v1"), max_retries=0)
    client.chat.completions.create(model="qwen/qwen3-32b", messages=[{"role": "user", "content": "Hi"}])


def _refused(gateway: Gateway, key: str) -> bool:
    try:
        _chat(gateway, key)
    except openai.PermissionDeniedError:
        return True
    return False


def test_an_admin_bans_an_account_and_reads_the_audit_log(
    gateway: Gateway, browser: Browser, admin: Person, page: Page
) -> None:
    user = Person.new(gateway, "rulebreaker")
    sign_up(page, user.email)
    key = create_key(page, "script")
    _chat(gateway, key)

    with open_context(browser, gateway) as admin_context:
        console = admin_context.new_page()
        console.goto("/admin")
        expect(console).to_have_url(re.compile(r"/login\?next=/admin$"))
        sign_in(console, admin.email, lands="/admin")
        console.get_by_role("navigation", name="Admin").get_by_role("link", name="Accounts").click()
        console.get_by_label("Email contains").fill(user.email)
        console.get_by_role("button", name="Search").click()
        expect(console.get_by_role("status")).to_have_text("1 account found.")
        console.get_by_role("link", name=user.email).click()

        expect(console.get_by_role("heading", level=1)).to_have_text(user.email)
        ban = console.get_by_role("region", name="Ban")
        ban.get_by_label("Reason").fill("scraping the catalogue")
        ban.get_by_role("button", name=f"Ban {user.email}").click()
        expect(console.get_by_role("status")).to_contain_text("The account is banned")
        expect(console.locator("#account-status")).to_have_text("banned")

        def signed_out() -> bool:  # the banned person's session ends (another process: within its account cache)
            page.goto("/keys")
            return page.url.endswith("/login?next=/keys")

        eventually(signed_out, what="the banned account's session ending")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill("correct horse battery staple")
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("alert")).to_have_text("API access is disabled for this account.")
        eventually(lambda: _refused(gateway, key), what="the banned account's key answering 403")

        console.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit log").click()
        console.get_by_label("Action").select_option("account.ban")
        console.get_by_label("Target (email, account or key id)").fill(user.email)
        console.get_by_role("button", name="Filter").click()
        entry = console.get_by_role("row").filter(has_text="account.ban")
        expect(entry).to_have_count(1)
        for shown in (admin.email, user.email, "status: active → banned", "scraping the catalogue"):
            expect(entry).to_contain_text(shown)
