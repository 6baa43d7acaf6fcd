from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.accounts import Account
from domain.keys import issue_key
from domain.plans import Endpoint, RatePolicy, Subject
from infrastructure.persistence.accounts import SqlAccountRepository
from infrastructure.persistence.api_keys import SqlApiKeyRepository

from .conftest import NOW, add_account

PEPPER = b"pepper"


@pytest.fixture
def keys(sessions: async_sessionmaker[AsyncSession]) -> SqlApiKeyRepository:
    return SqlApiKeyRepository(sessions)


def _issue(account: Account, name: str = "ci", **kwargs):
    return issue_key(account.id, name, PEPPER, NOW, active_keys=0, **kwargs).key


async def test_a_key_reads_back_with_its_model_list(keys: SqlApiKeyRepository, account: Account) -> None:
    key = _issue(account, expires_at=NOW + timedelta(days=30), allowed_models=frozenset({"b/m", "a/m"}))
    open_key = _issue(account, "open")
    await keys.add(key)
    await keys.add(open_key)
    assert await keys.get(key.id) == key
    assert (await keys.get(open_key.id)).allowed_models is None
    assert await keys.get("key_missing") is None


async def test_find_with_account_joins_the_owner(keys: SqlApiKeyRepository, account: Account) -> None:
    key = _issue(account)
    await keys.add(key)
    found = await keys.find_with_account(key.secret_hash)
    assert found == (key, account)
    assert await keys.find_with_account("0" * 64) is None


async def test_find_with_account_reads_the_owners_rate_limits(
    keys: SqlApiKeyRepository, accounts: SqlAccountRepository, account: Account
) -> None:
    chat = RatePolicy("chat", frozenset({Endpoint.CHAT, Endpoint.EMBEDDINGS}), 1000, 60, Subject.KEY)
    limited = account.with_rate_limits((chat,))
    await accounts.save(limited)
    key = _issue(account)
    await keys.add(key)
    assert await keys.find_with_account(key.secret_hash) == (key, limited)


async def test_list_and_count_active(
    keys: SqlApiKeyRepository, accounts: SqlAccountRepository, account: Account
) -> None:
    other = await add_account(accounts)
    live = _issue(account, "live")
    expired = _issue(account, "expiring", expires_at=NOW + timedelta(minutes=1))
    revoked = _issue(account, "revoked")
    for key in (live, expired, revoked, _issue(other, "someone else's")):
        await keys.add(key)
    assert await keys.revoke(revoked.id, NOW)
    listed = await keys.list_for_account(account.id)
    assert {k.id for k in listed} == {live.id, expired.id, revoked.id}
    assert await keys.count_active(account.id, NOW) == 2
    assert await keys.count_active(account.id, NOW + timedelta(minutes=2)) == 1


async def test_revoke_keeps_the_first_time_and_reports_unknown_keys(
    keys: SqlApiKeyRepository, account: Account
) -> None:
    key = _issue(account)
    await keys.add(key)
    assert await keys.revoke(key.id, NOW)
    assert await keys.revoke(key.id, NOW + timedelta(hours=1))
    assert (await keys.get(key.id)).revoked_at == NOW
    assert not await keys.revoke("key_missing", NOW)


async def test_a_key_needs_an_existing_account(keys: SqlApiKeyRepository, account: Account) -> None:
    with pytest.raises(IntegrityError):
        await keys.add(replace(_issue(account), account_id="acct_missing"))
