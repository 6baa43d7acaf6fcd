"""The identity and pending sign-in ports: one contract, run on the in-memory fakes, SQLite and Postgres."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.accounts import Account
from domain.errors import Conflict
from domain.identities import IdentityLink, PendingSignIn
from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.engine import create_engine, session_factory
from infrastructure.persistence.identities import SqlIdentityRepository, SqlPendingSignInStore
from infrastructure.persistence.migrate import migrate
from tests.conftest import _create_database, _drop_database
from tests.fakes.identities import InMemoryIdentityRepository, InMemoryPendingSignInStore

from .conftest import NOW, add_account

ISSUER = "https://accounts.example.com"
KEY = "a" * 64


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[tuple[object, object, Account]]:
    if request.param == "memory":
        account = Account("acct_1", "ada@example.org", *_defaults())
        yield InMemoryIdentityRepository(), InMemoryPendingSignInStore(), account
        return
    dropped = None
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        base = request.getfixturevalue("postgres_base_url")
        url, dropped = await _create_database(base)
    await migrate(url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        account = await add_account(SqlAccountRepository(sessions), "ada@example.org")
        yield SqlIdentityRepository(sessions), SqlPendingSignInStore(sessions), account
    finally:
        await engine.dispose()
        if dropped:
            await _drop_database(base, dropped)


def _defaults() -> tuple:  # type: ignore[type-arg]
    from domain.accounts import AccountStatus, Role

    return Role.USER, AccountStatus.ACTIVE, "default", NOW


def _pending(**changes: object) -> PendingSignIn:
    pending = PendingSignIn(
        provider_id="club",
        state="s" * 43,
        nonce="n" * 43,
        code_verifier="v" * 86,
        redirect_uri="https://gw.example/login/oidc/club/callback",
        next_path="/keys?tab=1",
        expires_at=NOW + timedelta(minutes=10),
    )
    return replace(pending, **changes)  # type: ignore[arg-type]


async def test_a_link_is_found_by_issuer_and_subject(stores) -> None:  # type: ignore[no-untyped-def]
    identities, _, account = stores
    link = IdentityLink(ISSUER, "1094", account.id, NOW)
    await identities.add(link)
    assert await identities.get(ISSUER, "1094") == link
    assert await identities.get(ISSUER, "1095") is None
    assert await identities.get("https://other.example", "1094") is None  # a subject is only unique per issuer


async def test_an_identity_links_once(stores) -> None:  # type: ignore[no-untyped-def]
    identities, _, account = stores
    await identities.add(IdentityLink(ISSUER, "1094", account.id, NOW))
    with pytest.raises(Conflict):
        await identities.add(IdentityLink(ISSUER, "1094", account.id, NOW + timedelta(seconds=1)))
    await identities.add(IdentityLink("https://other.example", "1094", account.id, NOW))  # same sub, another issuer


async def test_a_pending_sign_in_is_taken_once(stores) -> None:  # type: ignore[no-untyped-def]
    _, pending_store, _ = stores
    await pending_store.put(KEY, _pending(), NOW)
    assert await pending_store.take("b" * 64, NOW) is None
    assert await pending_store.take(KEY, NOW + timedelta(minutes=1)) == _pending()
    assert await pending_store.take(KEY, NOW + timedelta(minutes=1)) is None


async def test_an_expired_pending_sign_in_is_not_given_and_is_forgotten(stores) -> None:  # type: ignore[no-untyped-def]
    _, pending_store, _ = stores
    await pending_store.put(KEY, _pending(), NOW)
    assert await pending_store.take(KEY, NOW + timedelta(minutes=10)) is None
    await pending_store.put(KEY, _pending(), NOW)
    later = _pending(expires_at=NOW + timedelta(minutes=21))
    await pending_store.put("c" * 64, later, NOW + timedelta(minutes=11))  # forgets the first one
    assert await pending_store.take(KEY, NOW) is None
    assert await pending_store.take("c" * 64, NOW + timedelta(minutes=11)) is not None


async def test_two_callbacks_racing_with_one_cookie_get_it_once(stores) -> None:  # type: ignore[no-untyped-def]
    _, pending_store, _ = stores
    await pending_store.put(KEY, _pending(), NOW)
    results = await asyncio.gather(*(pending_store.take(KEY, NOW) for _ in range(5)))
    assert sum(r is not None for r in results) == 1
