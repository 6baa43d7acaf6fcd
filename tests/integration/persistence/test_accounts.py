from dataclasses import replace

import pytest
from sqlalchemy import text, update

from domain.accounts import AccountStatus, Role, new_account
from domain.errors import Conflict
from domain.plans import Endpoint, RatePolicy, Subject
from infrastructure.persistence import tables
from infrastructure.persistence.accounts import SqlAccountRepository, rate_limits_from_json, rate_limits_to_json

from .conftest import NOW


async def test_an_added_account_reads_back_by_id_and_email(accounts: SqlAccountRepository) -> None:
    account = new_account("Ada@Example.com", "default", NOW, admin=True)
    await accounts.add(account)
    assert await accounts.get(account.id) == account
    assert await accounts.get_by_email("ada@example.com") == account
    assert (await accounts.get(account.id)).created_at.tzinfo is not None


async def test_unknown_accounts_are_none(accounts: SqlAccountRepository) -> None:
    assert await accounts.get("acct_missing") is None
    assert await accounts.get_by_email("nobody@example.com") is None


async def test_a_taken_email_is_a_conflict(accounts: SqlAccountRepository) -> None:
    await accounts.add(new_account("ada@example.com", "default", NOW))
    with pytest.raises(Conflict):
        await accounts.add(new_account("ada@example.com", "pro", NOW))


async def test_save_persists_status_role_and_plan(accounts: SqlAccountRepository) -> None:
    account = new_account("ada@example.com", "default", NOW)
    await accounts.add(account)
    changed = replace(account.banned(), role=Role.ADMIN, plan="unlimited")
    await accounts.save(changed)
    stored = await accounts.get(account.id)
    assert stored == changed
    assert stored.status is AccountStatus.BANNED


CHAT = RatePolicy("chat", frozenset({Endpoint.CHAT, Endpoint.EMBEDDINGS}), 1000, 60, Subject.KEY)
IMAGES = RatePolicy("images", frozenset({Endpoint.IMAGES}), 100, 0.5, Subject.IP)


async def test_rate_limit_overrides_are_added_saved_and_cleared(accounts: SqlAccountRepository) -> None:
    account = new_account("ada@example.com", "enterprise", NOW).with_rate_limits((CHAT,))
    await accounts.add(account)
    assert (await accounts.get(account.id)).rate_limits == (CHAT,)

    await accounts.save(account.with_rate_limits((IMAGES, CHAT)))
    assert (await accounts.get_by_email("ada@example.com")).rate_limits == (IMAGES, CHAT)  # order kept
    assert [a.rate_limits for a in await accounts.list_all("enterprise")] == [(IMAGES, CHAT)]

    await accounts.save(account.with_rate_limits(()))
    assert (await accounts.get(account.id)).rate_limits == ()


async def test_no_overrides_is_sql_null(accounts: SqlAccountRepository, sessions) -> None:
    account = new_account("ada@example.com", "default", NOW)
    await accounts.add(account)
    await accounts.save(account.with_rate_limits((CHAT,)).with_rate_limits(()))
    async with sessions() as session:
        stored = (await session.execute(text("SELECT rate_limits IS NULL FROM accounts"))).scalar_one()
    assert bool(stored) is True


async def test_an_unreadable_override_is_skipped_not_fatal(accounts: SqlAccountRepository, sessions) -> None:
    account = new_account("ada@example.com", "default", NOW).with_rate_limits((CHAT,))
    await accounts.add(account)
    good = rate_limits_to_json((IMAGES,))
    assert good is not None
    bad = [{"name": "chat", "endpoints": ["chat"], "requests": 0, "window_seconds": 60}, {"nonsense": 1}, *good]
    async with sessions() as session, session.begin():
        await session.execute(update(tables.accounts).values(rate_limits=bad))
    assert (await accounts.get(account.id)).rate_limits == (IMAGES,)
    assert rate_limits_from_json({"not": "a list"}) == ()
