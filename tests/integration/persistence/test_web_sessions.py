"""The SessionStore contract, run on every store: in memory (the fake), SQLite, Postgres and Redis.
And the password store, on both databases."""

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from application.ports.web_sessions import SessionStore
from domain.accounts import new_account
from domain.web_sessions import open_session
from infrastructure.limits.redis import redis_client
from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.engine import create_engine, session_factory
from infrastructure.persistence.migrate import migrate
from infrastructure.persistence.passwords import SqlPasswordStore
from infrastructure.persistence.web_sessions import SqlSessionStore
from infrastructure.sessions.redis import RedisSessionStore
from tests.conftest import _create_database, _drop_database
from tests.fakes.web_accounts import InMemorySessionStore

from .conftest import NOW

LIFETIME = timedelta(days=14)


@dataclass
class Subject:
    store: SessionStore
    new_account: Callable[[], Awaitable[str]]  # an account id sessions may belong to
    redis: Redis | None = None
    prefix: str = ""


async def _sql(url: str) -> AsyncIterator[Subject]:
    await migrate(url)
    engine = create_engine(url)
    db = session_factory(engine)
    accounts = SqlAccountRepository(db)

    async def account() -> str:
        made = new_account(f"{secrets.token_hex(4)}@example.org", "default", NOW)
        await accounts.add(made)
        return made.id

    try:
        yield Subject(SqlSessionStore(db), account)
    finally:
        await engine.dispose()


async def _any_account() -> str:
    return "acct_" + secrets.token_hex(8)


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    kind = request.param
    if kind == "memory":
        yield Subject(InMemorySessionStore(), _any_account)
    elif kind == "sqlite":
        async for made in _sql(request.getfixturevalue("sqlite_url")):
            yield made
    elif kind == "postgres":
        base = request.getfixturevalue("postgres_base_url")
        url, name = await _create_database(base)
        try:
            async for made in _sql(url):
                yield made
        finally:
            await _drop_database(base, name)
    else:
        client = redis_client(request.getfixturevalue("redis_url"))
        prefix = f"test-{secrets.token_hex(4)}:"
        try:
            yield Subject(RedisSessionStore(client, prefix=prefix), _any_account, client, prefix)
        finally:
            leftover = [key async for key in client.scan_iter(match=prefix + "*")]
            if leftover:
                await client.delete(*leftover)
            await client.aclose()


def _now() -> datetime:
    # Redis expires keys on its own clock, so the sessions here live around the real time.
    return datetime.now(UTC).replace(microsecond=0)


async def test_an_added_session_reads_back_as_it_was(subject: Subject) -> None:
    account_id = await subject.new_account()
    opened = open_session(account_id, _now(), LIFETIME, "Mozilla/5.0 (pytest)")
    await subject.store.add(opened.session)
    assert await subject.store.get(opened.session.id) == opened.session
    assert await subject.store.get(opened.token) is None  # stored by digest, never by token
    assert await subject.store.get("0" * 64) is None


async def test_touch_moves_last_use_and_expiry_and_never_revives(subject: Subject) -> None:
    account_id = await subject.new_account()
    now = _now()
    opened = open_session(account_id, now, LIFETIME)
    await subject.store.add(opened.session)
    later = now + timedelta(minutes=5)
    await subject.store.touch(opened.session.id, later, later + LIFETIME)
    moved = await subject.store.get(opened.session.id)
    assert moved == replace(opened.session, last_seen_at=later, expires_at=later + LIFETIME)
    await subject.store.delete(opened.session.id)
    await subject.store.touch(opened.session.id, later, later + LIFETIME)  # a request racing a sign-out
    assert await subject.store.get(opened.session.id) is None


async def test_delete_for_account_ends_all_but_the_kept_one(subject: Subject) -> None:
    ada, bob = await subject.new_account(), await subject.new_account()
    now = _now()
    mine = [open_session(ada, now, LIFETIME) for _ in range(3)]
    theirs = open_session(bob, now, LIFETIME)
    for opened in [*mine, theirs]:
        await subject.store.add(opened.session)
    assert await subject.store.delete_for_account(ada, keep=mine[0].session.id) == 2
    assert await subject.store.get(mine[0].session.id) is not None
    assert [await subject.store.get(o.session.id) for o in mine[1:]] == [None, None]
    assert await subject.store.delete_for_account(ada) == 1
    assert await subject.store.delete_for_account(ada) == 0
    assert await subject.store.get(theirs.session.id) == theirs.session


async def test_an_expired_session_is_never_returned_live(subject: Subject) -> None:
    account_id = await subject.new_account()
    now = _now()
    old = open_session(account_id, now - LIFETIME - timedelta(hours=1), LIFETIME)
    fresh = open_session(account_id, now, LIFETIME)
    await subject.store.add(old.session)
    await subject.store.add(fresh.session)
    found = await subject.store.get(old.session.id)
    assert found is None or not found.is_live(now)  # Redis has dropped it already; SQL keeps it until purged
    await subject.store.purge_expired(now)
    assert await subject.store.get(old.session.id) is None
    assert await subject.store.get(fresh.session.id) == fresh.session


async def test_redis_keys_expire_with_their_sessions(redis_url: str) -> None:
    client = redis_client(redis_url)
    prefix = f"test-{secrets.token_hex(4)}:"
    store = RedisSessionStore(client, prefix=prefix)
    try:
        now = _now()
        short = open_session("acct_a", now, timedelta(minutes=10))
        long = open_session("acct_a", now, timedelta(days=2))
        await store.add(short.session)
        await store.add(long.session)
        session_ttl = await client.pttl(f"{prefix}web-session:{short.session.id}")
        index_ttl = await client.pttl(f"{prefix}web-sessions:acct_a")
        assert 0 < session_ttl <= 10 * 60 * 1000
        # The index lives as long as the account's longest session, so sign-out-everywhere finds it.
        assert 2 * 86400 * 1000 - 60_000 < index_ttl <= 2 * 86400 * 1000
        assert await store.purge_expired(now) == 0
    finally:
        leftover = [key async for key in client.scan_iter(match=prefix + "*")]
        if leftover:
            await client.delete(*leftover)
        await client.aclose()


async def test_passwords_live_beside_their_accounts(database_url: str) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        db = session_factory(engine)
        accounts, passwords = SqlAccountRepository(db), SqlPasswordStore(db)
        account = new_account("ada@example.org", "default", NOW)
        await accounts.add(account)
        assert await passwords.find("ada@example.org") == (account, None)
        assert await passwords.get(account.id) is None
        await passwords.set(account.id, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
        assert await passwords.find("ada@example.org") == (account, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
        assert await passwords.get(account.id) == "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
        assert await passwords.find("nobody@example.org") is None
        await accounts.save(account.banned())  # saving an account leaves its password alone
        found = await passwords.find("ada@example.org")
        assert found is not None and found[0].is_banned and found[1] is not None
    finally:
        await engine.dispose()
