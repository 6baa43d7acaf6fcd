from dataclasses import replace

import pytest

from domain.accounts import AccountStatus, Role, new_account
from domain.errors import Conflict
from infrastructure.persistence.accounts import SqlAccountRepository

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
