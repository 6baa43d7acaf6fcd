"""Signing in through an OpenID Connect provider, with in-memory fakes of every port."""

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from application.identity_providers import IdentityProviderBook
from application.plan_book import PlanBook
from application.use_cases.accounts import CreateAccount
from application.use_cases.provider_sign_in import (
    PENDING_SECONDS,
    BeginProviderSignIn,
    FinishProviderSignIn,
    SignInWithProvider,
    pending_key,
)
from application.use_cases.web_sessions import OpenWebSession
from domain.accounts import new_account
from domain.errors import AccountBanned, EmailDomainNotAllowed, SignInRefused, SignUpClosed
from domain.identities import IdentityLink, ProviderIdentity, Refusal, local_path
from domain.sign_up import SignUpPolicy
from tests.fakes.identities import InMemoryIdentityRepository, InMemoryPendingSignInStore, ScriptedProvider
from tests.fakes.memory import FakeClock, InMemoryAccountRepository
from tests.fakes.web_accounts import InMemorySessionStore

ISSUER = "https://accounts.example.com"
ADA = ProviderIdentity(ISSUER, "1094", "Ada@Example.org", True)
REDIRECT = "https://gw.example/login/oidc/club/callback"


@dataclass
class World:
    clock: FakeClock
    accounts: InMemoryAccountRepository
    identities: InMemoryIdentityRepository
    pending: InMemoryPendingSignInStore
    provider: ScriptedProvider
    plans: PlanBook
    sessions: InMemorySessionStore

    def sign_in(self, policy: SignUpPolicy = SignUpPolicy()) -> SignInWithProvider:
        create = CreateAccount(self.accounts, self.plans, self.clock)
        return SignInWithProvider(self.identities, self.accounts, create, policy, self.clock)

    def begin(self) -> BeginProviderSignIn:
        return BeginProviderSignIn(IdentityProviderBook([self.provider]), self.pending, self.clock)

    def finish(self, policy: SignUpPolicy = SignUpPolicy()) -> FinishProviderSignIn:
        book = IdentityProviderBook([self.provider])
        opener = OpenWebSession(self.sessions, self.clock, timedelta(days=14))
        return FinishProviderSignIn(book, self.pending, self.sign_in(policy), opener, self.clock)


@pytest.fixture
def world() -> World:
    return World(
        FakeClock(),
        InMemoryAccountRepository(),
        InMemoryIdentityRepository(),
        InMemoryPendingSignInStore(),
        ScriptedProvider(identity=ADA),
        PlanBook(default="free"),
        InMemorySessionStore(),
    )


async def _existing(world: World, email: str = "ada@example.org", *, banned: bool = False):  # type: ignore[no-untyped-def]
    account = new_account(email, "credits", world.clock.now())
    await world.accounts.add(account.banned() if banned else account)
    return account


# ------------------------------------------------------------------------------- identity -> account


async def test_a_first_sign_in_links_the_account_of_its_verified_email(world: World) -> None:
    account = await _existing(world)
    assert await world.sign_in().execute(ADA) == account
    assert world.identities.links[(ISSUER, "1094")] == IdentityLink(ISSUER, "1094", account.id, world.clock.now())
    assert len(world.accounts.all) == 1


async def test_a_first_sign_in_without_an_account_creates_one_on_the_default_plan(world: World) -> None:
    account = await world.sign_in().execute(ADA)
    assert (account.email, account.plan) == ("ada@example.org", "free")
    assert world.identities.links[(ISSUER, "1094")].account_id == account.id


async def test_a_second_sign_in_reuses_the_linked_account_even_after_the_email_changed(world: World) -> None:
    first = await world.sign_in().execute(ADA)
    moved = replace(ADA, email="ada@new.example", email_verified=False)
    assert await world.sign_in().execute(moved) == first
    assert len(world.accounts.all) == 1


async def test_a_closed_sign_up_lets_only_existing_accounts_in(world: World) -> None:
    closed = SignUpPolicy(open=False)
    with pytest.raises(SignUpClosed):
        await world.sign_in(closed).execute(ADA)
    assert world.accounts.all == [] and world.identities.links == {}
    account = await _existing(world)
    assert await world.sign_in(closed).execute(ADA) == account


async def test_sign_up_limited_to_domains_refuses_others(world: World) -> None:
    only = SignUpPolicy(domains=("club.example",))
    with pytest.raises(EmailDomainNotAllowed):
        await world.sign_in(only).execute(ADA)
    member = replace(ADA, subject="2001", email="grace@club.example")
    assert (await world.sign_in(only).execute(member)).email == "grace@club.example"
    await _existing(world)  # an existing account of another domain may still sign in
    assert (await world.sign_in(only).execute(ADA)).email == "ada@example.org"


async def test_an_unverified_email_is_refused_unless_the_identity_is_linked(world: World) -> None:
    account = await _existing(world)
    unverified = replace(ADA, email_verified=False)
    with pytest.raises(SignInRefused) as caught:
        await world.sign_in().execute(unverified)
    assert caught.value.reason is Refusal.EMAIL_UNVERIFIED
    assert world.identities.links == {}  # no account was taken over through an unverified address
    await world.identities.add(IdentityLink(ISSUER, "1094", account.id, world.clock.now()))
    assert await world.sign_in().execute(unverified) == account


@pytest.mark.parametrize("email", [None, "", "not-an-address"])
async def test_an_identity_without_a_usable_email_is_refused(world: World, email: str | None) -> None:
    with pytest.raises(SignInRefused) as caught:
        await world.sign_in().execute(replace(ADA, email=email))
    assert caught.value.reason is Refusal.EMAIL_MISSING


async def test_a_banned_account_is_refused_and_not_linked(world: World) -> None:
    await _existing(world, banned=True)
    with pytest.raises(AccountBanned):
        await world.sign_in().execute(ADA)
    assert world.identities.links == {}


async def test_a_linked_account_banned_later_is_refused(world: World) -> None:
    account = await world.sign_in().execute(ADA)
    await world.accounts.save(account.banned())
    with pytest.raises(AccountBanned):
        await world.sign_in().execute(ADA)


async def test_the_same_first_sign_in_twice_at_once_ends_on_one_account(world: World) -> None:
    import asyncio

    results = await asyncio.gather(world.sign_in().execute(ADA), world.sign_in().execute(ADA))
    assert results[0] == results[1]
    assert len(world.accounts.all) == 1 and len(world.identities.links) == 1


# ----------------------------------------------------------------------------- begin and come back


async def test_begin_keeps_the_attempt_under_the_cookie_tokens_hash(world: World) -> None:
    started = await world.begin().execute("club", REDIRECT, "/keys")
    assert started.authorization_url == "https://id.example/authorize?n=1"
    assert started.max_age_seconds == PENDING_SECONDS
    assert started.token not in world.pending.pending
    pending = world.pending.pending[pending_key(started.token)]
    assert (pending.provider_id, pending.state, pending.nonce, pending.code_verifier) == (
        "club",
        "state-1",
        "nonce-1",
        "verifier-1",
    )
    assert (pending.redirect_uri, pending.next_path) == (REDIRECT, "/keys")
    assert pending.expires_at == world.clock.now() + timedelta(seconds=PENDING_SECONDS)


async def test_finish_opens_a_session_and_returns_where_the_person_was_going(world: World) -> None:
    started = await world.begin().execute("club", REDIRECT, "/usage")
    params = {"code": "c", "state": "state-1"}
    finished = await world.finish().execute("club", started.token, params, user_agent="Firefox")
    account = finished.signed_in.account
    assert account.email == "ada@example.org"
    assert finished.next_path == "/usage"
    session = finished.signed_in.opened.session
    assert world.sessions.sessions == {session.id: session}
    assert (session.account_id, session.user_agent) == (account.id, "Firefox")


async def test_a_refused_sign_in_opens_no_session(world: World) -> None:
    world.provider.refusal = Refusal.TOKEN_INVALID
    started = await world.begin().execute("club", REDIRECT)
    assert await _refusal(world.finish().execute("club", started.token, {"code": "c", "state": "state-1"})) is (
        Refusal.TOKEN_INVALID
    )
    assert world.sessions.sessions == {}


async def _refusal(call) -> Refusal:  # type: ignore[no-untyped-def]
    with pytest.raises(SignInRefused) as caught:
        await call
    return caught.value.reason


async def test_a_callback_is_used_once(world: World) -> None:
    started = await world.begin().execute("club", REDIRECT)
    params = {"code": "c", "state": "state-1"}
    await world.finish().execute("club", started.token, params)
    assert await _refusal(world.finish().execute("club", started.token, params)) is Refusal.EXPIRED
    assert len(world.provider.finished) == 1


async def test_a_callback_without_this_browsers_cookie_is_refused(world: World) -> None:
    await world.begin().execute("club", REDIRECT)
    params = {"code": "c", "state": "state-1"}
    for token in (None, "", "another-browsers-token"):
        assert await _refusal(world.finish().execute("club", token, params)) is Refusal.EXPIRED
    assert world.provider.finished == []


async def test_a_wrong_state_spends_the_attempt(world: World) -> None:
    started = await world.begin().execute("club", REDIRECT)
    assert await _refusal(world.finish().execute("club", started.token, {"code": "c", "state": "x"})) is (
        Refusal.STATE_MISMATCH
    )
    good = {"code": "c", "state": "state-1"}
    assert await _refusal(world.finish().execute("club", started.token, good)) is Refusal.EXPIRED


async def test_a_callback_after_the_pending_time_is_refused(world: World) -> None:
    started = await world.begin().execute("club", REDIRECT)
    world.clock.advance(PENDING_SECONDS)
    params = {"code": "c", "state": "state-1"}
    assert await _refusal(world.finish().execute("club", started.token, params)) is Refusal.EXPIRED


async def test_a_callback_at_another_providers_address_is_refused(world: World) -> None:
    other = ScriptedProvider(id="other", identity=ADA)
    book = IdentityProviderBook([world.provider, other])
    started = await BeginProviderSignIn(book, world.pending, world.clock).execute("club", REDIRECT)
    opener = OpenWebSession(world.sessions, world.clock, timedelta(days=14))
    finish = FinishProviderSignIn(book, world.pending, world.sign_in(), opener, world.clock)
    params = {"code": "c", "state": "state-1"}
    assert await _refusal(finish.execute("other", started.token, params)) is Refusal.STATE_MISMATCH
    assert other.finished == []


async def test_an_unknown_provider_is_refused(world: World) -> None:
    assert await _refusal(world.begin().execute("nope", REDIRECT)) is Refusal.UNKNOWN_PROVIDER
    assert await _refusal(world.finish().execute("nope", "t", {})) is Refusal.UNKNOWN_PROVIDER


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/keys", "/keys"),
        ("/usage?day=2025-01-01", "/usage?day=2025-01-01"),
        (None, "/dashboard"),
        ("", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("//evil.example/", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("keys", "/dashboard"),
        ("/ok\r\nSet-Cookie: x=1", "/dashboard"),
    ],
)
def test_only_local_paths_are_followed(candidate: str | None, expected: str) -> None:
    assert local_path(candidate) == expected
