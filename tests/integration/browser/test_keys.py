"""A key made on /keys, shown exactly once, used with the openai SDK, then revoked in the browser."""

import re

import openai
from playwright.sync_api import BrowserContext, Page, expect

from tests.integration.browser.people import Person
from tests.integration.browser.steps import SECRET, create_key, sign_up
from tests.integration.e2e.harness import Gateway
from tests.integration.e2e.web_waiting import eventually

MODEL = "qwen/qwen3-32b"


def _sdk(gateway: Gateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=gateway.url("/v1"), max_retries=0)


def _chat(gateway: Gateway, key: str) -> str:
    reply = _sdk(gateway, key).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hello"}])
    return reply.choices[0].message.content or ""


def _see_the_request_in_usage(page: Page) -> None:
    """The call on /usage: a row of the last requests, and a bar of the charts, drawn and named."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Usage").click()
    recent = page.locator("#recent").get_by_role("row").filter(has_text=MODEL)

    def listed() -> bool:
        if recent.count():
            return True
        page.reload()  # usage records are written in batches: a moment after the call
        return False

    eventually(listed, what="the request on /usage")
    expect(recent).to_have_count(1)
    for column, shown in ((1, "laptop"), (2, "chat"), (4, "200")):
        expect(recent.get_by_role("cell").nth(column)).to_contain_text(shown)
    expect(page.get_by_text("1 requests", exact=False).first).to_be_visible()

    chart = page.get_by_role("img", name="Requests per model")
    expect(chart).to_be_visible()
    bar = chart.locator("g.bar").filter(has=page.locator("title", has_text=MODEL))
    expect(bar).to_have_count(1)
    assert bar.locator("title").text_content() == f"{MODEL} · 1"
    drawn = bar.locator("rect").bounding_box()
    assert drawn and drawn["width"] > 0 and drawn["height"] > 0
    per_day = page.get_by_role("img", name="Requests per day")  # one model, so one series: today's bar
    expect(per_day.locator("g.bar title").filter(has_text=re.compile(r" · 1$"))).to_have_count(1)
    page.get_by_text("Requests per model as a table").click()  # the same figures, for those who cannot see the bars
    expect(page.get_by_role("row", name=f"{MODEL} 1")).to_be_visible()


def test_a_key_is_shown_once_works_with_the_sdk_and_is_refused_once_revoked(
    gateway: Gateway, context: BrowserContext, page: Page
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=gateway.root)
    sign_up(page, Person.new(gateway, "builder").email)
    page.goto("/keys")
    expect(page.get_by_text("No keys yet.")).to_be_visible()

    key = create_key(page, "laptop")
    expect(page.get_by_role("alert")).to_contain_text("Copy it now: it won't be shown again.")
    assert SECRET.findall(page.content()) == [key]  # once on the page, nowhere else in it
    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_role("status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == key

    page.reload()  # the secret does not come back, and no second key is made
    expect(page.get_by_role("heading", name="Your new key “laptop”")).to_have_count(0)
    assert not SECRET.search(page.content())
    row = page.get_by_role("row").filter(has_text="laptop")
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(1)).to_have_text(key[:16] + "…")
    expect(page.get_by_text("1 of 50 active keys.")).to_be_visible()

    assert _chat(gateway, key)  # the openai SDK through the gateway to the fake upstream

    def last_use() -> str:
        page.reload()
        return row.get_by_role("cell").nth(3).inner_text()

    eventually(lambda: last_use() != "never", what="the key's last use on /keys")

    _see_the_request_in_usage(page)

    page.goto("/keys")
    row.get_by_role("button", name="Revoke key laptop").click()
    expect(page.get_by_role("status")).to_contain_text("The key is revoked")
    expect(row.get_by_role("cell").nth(6)).to_have_text("revoked")
    expect(row.get_by_role("button")).to_have_count(0)

    def refused() -> bool:
        try:
            _chat(gateway, key)
        except openai.AuthenticationError as error:
            return error.status_code == 401
        return False

    eventually(refused, what="the revoked key answering 401")
