"""Signing in to a real `sluice serve` through a real OpenID Connect provider (oidc-provider-mock),
driven with httpx as a browser: the gateway's redirect, the provider's authorization form, the
callback, and the dashboard. One provider comes from SLUICE_OIDC_*, one from SLUICE_CONFIG."""

import sqlite3
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import TEST_CONFIG, Gateway
from tests.integration.e2e.web_session import sign_up
from tests.oidc_provider import MockProvider, running_provider


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProvider]:
    with running_provider() as provider:
        provider.set_user("ada", email="ada@example.org", email_verified=True)
        provider.set_user("grace", email="Grace@Example.org", email_verified=True)
        provider.set_user("mallory", email="mallory@example.org")  # email_verified absent
        provider.set_user("banned", email="banned@example.org", email_verified=True)
        yield provider


@pytest.fixture(scope="module")
def gw(upstream: FakeUpstreamHandle, mock: MockProvider) -> Iterator[Gateway]:
    gateway = Gateway(
        upstream.base_url,
        extra_env={
            "SLUICE_OIDC_ISSUER": mock.issuer,
            "SLUICE_OIDC_CLIENT_ID": "sluice-e2e",
            "SLUICE_OIDC_CLIENT_SECRET": "env-secret",
            "SLUICE_OIDC_NAME": "Club SSO",
            "SLUICE_CLUB_SECRET": "file-provider-secret",
        },
    )
    (gateway.dir / "sluice.toml").write_text(
        TEST_CONFIG
        + f"""
[[oidc.providers]]
id = "club"
name = "Club Slack"
issuer = "{mock.issuer}/"
client_id = "sluice-club"
client_secret_env = "SLUICE_CLUB_SECRET"
"""
    )
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:  # keeps cookies, follows nothing by itself
        yield client


async def _to_provider(gw: Gateway, browser: httpx.AsyncClient, provider: str = "sso", next: str = "") -> str:
    start = await browser.get(f"{gw.root}/login/oidc/{provider}" + (f"?next={next}" if next else ""))
    assert start.status_code == 303, start.text
    return start.headers["location"]


async def _sign_in(
    gw: Gateway, mock: MockProvider, browser: httpx.AsyncClient, sub: str, provider: str = "sso", next: str = ""
) -> httpx.Response:
    callback = await mock.authorize(browser, await _to_provider(gw, browser, provider, next), sub)
    assert callback.startswith(f"{gw.root}/login/oidc/{provider}/callback?")
    return await browser.get(callback)


def _linked(gw: Gateway, email: str) -> list[tuple[str, str]]:
    """(issuer, subject) of each identity linked to the account of `email`, read from the gateway's SQLite file."""
    with sqlite3.connect(gw.dir / "data" / "sluice.db") as db:
        query = "SELECT issuer, subject FROM identities JOIN accounts ON accounts.id = account_id WHERE email = ?"
        return sorted(db.execute(query, (email,)).fetchall())


def _account_id(gw: Gateway, email: str) -> str | None:
    with sqlite3.connect(gw.dir / "data" / "sluice.db") as db:
        row = db.execute("SELECT id FROM accounts WHERE email = ?", (email,)).fetchone()
    return row[0] if row else None


async def test_the_login_page_offers_each_provider(gw: Gateway, browser: httpx.AsyncClient) -> None:
    page = await browser.get(gw.root + "/login?next=/keys")
    assert page.status_code == 200
    assert '<a class="button secondary" href="/login/oidc/sso?next=/keys">Sign in with Club SSO</a>' in page.text
    assert '<a class="button secondary" href="/login/oidc/club?next=/keys">Sign in with Club Slack</a>' in page.text


async def test_start_sends_the_browser_to_the_provider_with_a_short_lived_cookie(
    gw: Gateway, mock: MockProvider, browser: httpx.AsyncClient
) -> None:
    start = await browser.get(gw.root + "/login/oidc/sso")
    assert start.status_code == 303
    target = httpx.URL(start.headers["location"])
    assert str(target).startswith(mock.issuer + "/oauth2/authorize?")
    assert target.params["client_id"] == "sluice-e2e"
    assert target.params["redirect_uri"] == f"{gw.root}/login/oidc/sso/callback"
    assert target.params["code_challenge_method"] == "S256"
    cookie = start.headers["set-cookie"]
    assert cookie.startswith("sluice_oidc=")
    for attribute in ("HttpOnly", "Max-Age=600", "Path=/login/oidc", "SameSite=Lax"):
        assert attribute.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()  # plain http here; over https the cookie is Secure


async def test_a_first_sign_in_creates_the_account_and_lands_signed_in(
    gw: Gateway, mock: MockProvider, browser: httpx.AsyncClient
) -> None:
    back = await _sign_in(gw, mock, browser, "ada", next="/keys")
    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/keys"
    cookies = back.headers.get_list("set-cookie")
    assert any(c.startswith("sluice_session=") and "httponly" in c.lower() for c in cookies), cookies
    assert any(c.startswith("sluice_oidc=") and "max-age=0" in c.lower() for c in cookies), cookies
    dashboard = await browser.get(gw.root + "/dashboard")
    assert dashboard.status_code == 200
    assert '<a href="/account">ada@example.org</a>' in dashboard.text
    assert _linked(gw, "ada@example.org") == [(mock.issuer, "ada")]


async def test_a_second_sign_in_reuses_the_account(gw: Gateway, mock: MockProvider) -> None:
    first = _account_id(gw, "ada@example.org")
    assert first is not None
    for _ in range(2):
        async with httpx.AsyncClient(timeout=10) as browser:
            back = await _sign_in(gw, mock, browser, "ada")
            assert (back.status_code, back.headers["location"]) == (303, "/dashboard")
            assert '<a href="/account">ada@example.org</a>' in (await browser.get(gw.root + "/dashboard")).text
    assert _account_id(gw, "ada@example.org") == first
    assert _linked(gw, "ada@example.org") == [(mock.issuer, "ada")]


async def test_a_password_account_is_linked_by_its_verified_email(gw: Gateway, mock: MockProvider) -> None:
    with httpx.Client() as first:
        sign_up(first, gw.root, "grace@example.org", "correct horse battery")
    account = _account_id(gw, "grace@example.org")
    async with httpx.AsyncClient(timeout=10) as browser:
        back = await _sign_in(gw, mock, browser, "grace", provider="club")
        assert back.status_code == 303, back.text
        assert '<a href="/account">grace@example.org</a>' in (await browser.get(gw.root + "/dashboard")).text
    assert _account_id(gw, "grace@example.org") == account
    # The file's provider is the same issuer (written with a trailing slash) under another client id.
    assert _linked(gw, "grace@example.org") == [(mock.issuer, "grace")]


async def test_a_callback_is_good_once_and_only_in_the_browser_that_started(
    gw: Gateway, mock: MockProvider, browser: httpx.AsyncClient
) -> None:
    callback = await mock.authorize(browser, await _to_provider(gw, browser), "ada")
    async with httpx.AsyncClient(timeout=10) as other:  # login CSRF: someone else's callback URL
        refused = await other.get(callback)
        assert refused.status_code == 400
        assert "expired or was used already" in refused.text
        assert "sluice_session" not in refused.headers.get("set-cookie", "")
    assert (await browser.get(callback)).status_code == 303
    replayed = await browser.get(callback)
    assert replayed.status_code == 303  # already signed in: the login page sends it on
    browser.cookies.delete("sluice_session")
    assert (await browser.get(callback)).status_code == 400


async def test_an_unverified_email_is_refused(gw: Gateway, mock: MockProvider, browser: httpx.AsyncClient) -> None:
    back = await _sign_in(gw, mock, browser, "mallory")
    assert back.status_code == 400
    assert "has not verified your email address" in back.text
    assert 'href="/login/oidc/sso"' in back.text  # the login page again, with its buttons
    assert _account_id(gw, "mallory@example.org") is None


async def test_a_banned_account_cannot_sign_in(gw: Gateway, mock: MockProvider, browser: httpx.AsyncClient) -> None:
    assert (await _sign_in(gw, mock, browser, "banned")).status_code == 303
    gw.cli("accounts", "ban", "banned@example.org")
    async with httpx.AsyncClient(timeout=10) as fresh:
        back = await _sign_in(gw, mock, fresh, "banned")
        assert back.status_code == 403
        assert "sluice_session" not in back.headers.get("set-cookie", "")


async def test_declining_at_the_provider_comes_back_to_the_login_page(
    gw: Gateway, mock: MockProvider, browser: httpx.AsyncClient
) -> None:
    callback = await mock.deny(browser, await _to_provider(gw, browser))
    back = await browser.get(callback)
    assert back.status_code == 400
    assert "You declined the sign-in at the provider." in back.text


async def test_an_unknown_provider_is_not_found(gw: Gateway, browser: httpx.AsyncClient) -> None:
    assert (await browser.get(gw.root + "/login/oidc/nope")).status_code == 404
    assert (await browser.get(gw.root + "/login/oidc/nope/callback?code=x&state=y")).status_code == 404
