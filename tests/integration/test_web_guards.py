"""The guards and the cookie refresh on a Litestar app of their own (no gateway): the ports behind
them are the in-memory fakes, resolved from a dishka container as in the real app."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from dishka import Provider, Scope, make_async_container, provide
from litestar import Litestar, Request, get, post
from litestar.testing import TestClient

from application.plan_book import PlanBook
from application.use_cases.accounts import CreateAccount
from application.use_cases.web_sessions import OpenWebSession, ResolveSession
from domain.accounts import Role
from domain.web_sessions import TOUCH_EVERY
from interfaces.http.injection import attach_container
from interfaces.settings import Settings, load_settings
from interfaces.web.guards import check_csrf, require_admin, require_viewer
from interfaces.web.router import web_router
from interfaces.web.templating import TEMPLATE_CONFIG
from tests.fakes.memory import FakeClock, InMemoryAccountRepository
from tests.fakes.web_accounts import InMemorySessionStore

LIFETIME = timedelta(days=14)


class _Fakes(Provider):
    scope = Scope.APP

    def __init__(self, clock: FakeClock, accounts: InMemoryAccountRepository, sessions: InMemorySessionStore, settings):  # type: ignore[no-untyped-def]
        super().__init__()
        self._clock, self._accounts, self._sessions, self._settings = clock, accounts, sessions, settings

    @provide
    def resolve(self) -> ResolveSession:
        return ResolveSession(self._sessions, self._accounts, self._clock, LIFETIME, 0.0)

    @provide
    def settings(self) -> Settings:
        return self._settings


@get("/page")
async def a_page(request: Request) -> str:
    return (await require_viewer(request)).account.email


@get("/admin-page")
async def an_admin_page(request: Request) -> str:
    return (await require_admin(request)).account.email


@get("/api/thing")
async def an_api_call(request: Request) -> dict:
    return {"email": (await require_viewer(request)).account.email}


@post("/form", status_code=200)
async def a_form(request: Request) -> str:
    viewer = await require_viewer(request)
    check_csrf(request, viewer, (await request.form()).get("_csrf"))
    return "done"


@pytest.fixture
def world(tmp_path) -> Iterator[tuple[TestClient, FakeClock, InMemoryAccountRepository, InMemorySessionStore]]:  # type: ignore[no-untyped-def]
    clock, accounts, sessions = FakeClock(), InMemoryAccountRepository(), InMemorySessionStore()
    settings = load_settings({"SLUICE_DATA_DIR": str(tmp_path), "SLUICE_UPSTREAM_URL": "http://127.0.0.1:1"})
    container = make_async_container(_Fakes(clock, accounts, sessions, settings))
    app = Litestar(
        route_handlers=[web_router([a_page, an_admin_page, an_api_call, a_form])], template_config=TEMPLATE_CONFIG
    )
    attach_container(container, app)
    with TestClient(app) as client:
        yield client, clock, accounts, sessions


async def _session_for(accounts, sessions, clock, *, admin: bool = False):  # type: ignore[no-untyped-def]
    account = await CreateAccount(accounts, PlanBook(), clock).execute("ada@example.org", admin=admin)
    return await OpenWebSession(sessions, clock, LIFETIME).execute(account)


def test_pages_redirect_to_sign_in_and_calls_answer_401(world) -> None:  # type: ignore[no-untyped-def]
    client, *_ = world
    page = client.get("/page?x=1", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=/page%3Fx%3D1")
    api = client.get("/api/thing")
    assert api.status_code == 401 and api.json() == {
        "error": "Sign in first: this needs a session (the sluice_session cookie)."
    }


async def test_a_session_passes_and_admins_alone_pass_require_admin(world) -> None:  # type: ignore[no-untyped-def]
    client, clock, accounts, sessions = world
    opened = await _session_for(accounts, sessions, clock)
    client.cookies.set("sluice_session", opened.token)
    assert client.get("/page").text == "ada@example.org"
    refused = client.get("/admin-page")
    assert refused.status_code == 403 and "This page is for admins." in refused.text and "<html" in refused.text
    account = await accounts.get(opened.session.account_id)
    await accounts.save(replace(account, role=Role.ADMIN))
    assert client.get("/admin-page").text == "ada@example.org"


async def test_check_csrf_compares_the_sessions_token(world) -> None:  # type: ignore[no-untyped-def]
    client, clock, accounts, sessions = world
    opened = await _session_for(accounts, sessions, clock)
    client.cookies.set("sluice_session", opened.token)
    assert client.post("/form", data={"_csrf": "nope"}).status_code == 403
    assert client.post("/form", data={}).status_code == 403
    assert client.post("/form", data={"_csrf": opened.session.csrf_token}).text == "done"
    assert client.post("/form", headers={"X-CSRF-Token": opened.session.csrf_token}).text == "done"


async def test_a_sliding_session_sends_its_cookie_again(world) -> None:  # type: ignore[no-untyped-def]
    client, clock, accounts, sessions = world
    opened = await _session_for(accounts, sessions, clock)
    client.cookies.set("sluice_session", opened.token)
    assert "set-cookie" not in client.get("/page").headers
    clock.advance(TOUCH_EVERY.total_seconds())
    again = client.get("/page")
    cookie = again.headers["set-cookie"]
    assert cookie.startswith(f"sluice_session={opened.token};") and "Max-Age=1209600" in cookie and "HttpOnly" in cookie
    assert sessions.sessions[opened.session.id].expires_at == clock.now() + LIFETIME
    assert "set-cookie" not in client.get("/page").headers  # once per minute at most
