"""Every page, at desktop and at phone width: labelled inputs, named buttons and links, visible focus,
no sideways scrolling, nothing loaded from elsewhere, no link to a missing page. With
SLUICE_SCREENSHOTS=1 it also writes docs/screenshots/<page>-desktop.png and <page>-phone.png."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.fakes.stripe import FakeStripe
from tests.integration.browser.checks import problems
from tests.integration.browser.conftest import DESKTOP, PHONE, open_context
from tests.integration.browser.people import Person
from tests.integration.browser.showcase import Showcase, build_showcase
from tests.integration.browser.steps import SECRET, create_key
from tests.integration.e2e.harness import REPO_ROOT, Gateway

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


@dataclass(frozen=True)
class Screen:
    name: str
    path: str
    who: str | None  # "user", "admin" or nobody
    heading: str
    prepare: Callable[[Page], None] | None = None


def _new_key_shown(page: Page) -> None:
    assert SECRET.fullmatch(create_key(page, "demo"))


SCREENS = [
    Screen("login", "/login", None, "Sign in"),
    Screen("signup", "/signup", None, "Sign up"),
    Screen("dashboard", "/dashboard", "user", "Dashboard"),
    Screen("keys", "/keys", "user", "API keys", _new_key_shown),
    Screen("usage", "/usage", "user", "Usage"),
    Screen("credits", "/credits", "user", "Credits"),
    Screen("models", "/models", "user", "Models"),
    Screen("docs", "/docs", "user", "API documentation"),
    Screen("account", "/account", "user", "Account"),
    Screen("admin-overview", "/admin", "admin", "Admin overview"),
    Screen("admin-accounts", "/admin/accounts", "admin", "Accounts"),
    Screen("admin-account", "/admin/accounts/{account}", "admin", "ada@example.org"),
    Screen("admin-audit", "/admin/audit", "admin", "Audit log"),
    Screen("admin-plans", "/admin/plans", "admin", "Plans"),
    Screen("admin-leases", "/admin/leases", "admin", "Open credit leases"),
    Screen("admin-codes", "/admin/codes", "admin", "Redemption codes"),
]


@pytest.fixture(scope="module")
def showcase(gateway: Gateway, stripe: FakeStripe, admin: Person) -> Showcase:
    return build_showcase(gateway, stripe, admin)


@pytest.fixture
def viewer_context(
    browser: Browser, gateway: Gateway, showcase: Showcase, request: pytest.FixtureRequest
) -> Iterator[BrowserContext]:
    screen: Screen = request.param
    context = open_context(browser, gateway)
    session = {"user": showcase.user_session, "admin": showcase.admin_session}.get(screen.who or "")
    if session:
        context.add_cookies([{"name": "sluice_session", "value": session, "url": gateway.root}])
    try:
        yield context
    finally:
        context.close()


def _same_site_links(page: Page) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    return sorted({h.split("#")[0] for h in hrefs if h.startswith("/") and not h.startswith("//") and h.split("#")[0]})


def _shoot(page: Page, name: str, width: str) -> None:
    if os.environ.get("SLUICE_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True, animations="disabled", caret="hide")


@pytest.mark.parametrize("viewer_context", SCREENS, ids=[s.name for s in SCREENS], indirect=True)
def test_the_page_is_accessible_and_fits_a_phone(
    gateway: Gateway, showcase: Showcase, viewer_context: BrowserContext, request: pytest.FixtureRequest
) -> None:
    screen: Screen = request.node.callspec.params["viewer_context"]
    page = viewer_context.new_page()
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url))
    path = screen.path.format(account=showcase.user_account_id)
    answer = page.goto(path)
    assert answer is not None and answer.status == 200, f"{path} answered {answer and answer.status}"
    if screen.prepare:
        screen.prepare(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(screen.heading)
    expect(page).to_have_title(re.compile(r"\S.* · Sluice$"))

    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        _shoot(page, screen.name, width)
        found = problems(page, focus=width == "desktop")  # the same elements at either width
        assert not any(found.values()), f"{screen.name} at {width} width: {found}"

    elsewhere = [url for url in loaded if not url.startswith(gateway.root + "/")]
    assert not elsewhere, f"{screen.name} loaded {elsewhere}"
    for href in _same_site_links(page):
        status = page.request.get(urljoin(gateway.root, href), max_redirects=0).status
        assert status < 400, f"{screen.name} links to {href}, which answers {status}"
