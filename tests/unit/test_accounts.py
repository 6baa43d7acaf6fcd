from datetime import UTC, datetime

import pytest

from domain.accounts import Account, AccountStatus, Role, new_account, normalize_email
from domain.errors import InvalidRequest

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace@Example.COM \n", "ada.lovelace@example.com"),
        ("a+tag@b", "a+tag@b"),
    ],
)
def test_normalize_email_trims_and_lowercases(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "ada", "ada@", "@example.com", "ada@@example.com", "ada lovelace@example.com", "a@b c"],
)
def test_normalize_email_refuses_what_is_not_an_address(raw):
    with pytest.raises(InvalidRequest) as caught:
        normalize_email(raw)
    assert caught.value.param == "email"
    assert caught.value.code == "invalid_request"


def test_normalize_email_caps_the_length_at_320():
    local = "a" * 64
    fits = local + "@" + "d" * (320 - 65)
    assert len(fits) == 320
    assert normalize_email(fits) == fits
    with pytest.raises(InvalidRequest):
        normalize_email(fits + "d")


def test_new_account_is_an_active_user_on_the_given_plan():
    sut = new_account("  Ada@Example.com", "default", NOW)

    assert sut.email == "ada@example.com"
    assert sut.role is Role.USER
    assert sut.status is AccountStatus.ACTIVE
    assert sut.plan == "default"
    assert sut.created_at == NOW
    assert sut.id.startswith("acct_") and len(sut.id) == 5 + 16
    assert sut.is_banned is False


def test_new_admin_account_and_fresh_ids():
    admin = new_account("root@example.com", "unlimited", NOW, admin=True)

    assert admin.role is Role.ADMIN
    assert admin.id != new_account("root@example.com", "unlimited", NOW).id


def test_new_account_refuses_a_bad_email():
    with pytest.raises(InvalidRequest):
        new_account("not-an-email", "default", NOW)


def test_ban_and_unban_return_new_values():
    sut = new_account("ada@example.com", "default", NOW)

    banned = sut.banned()
    unbanned = banned.unbanned()

    assert banned.is_banned is True
    assert banned.status is AccountStatus.BANNED
    assert sut.is_banned is False  # the original is untouched
    assert unbanned.is_banned is False
    assert unbanned == sut
    assert isinstance(banned, Account)
    assert (banned.id, banned.email, banned.plan, banned.role) == (sut.id, sut.email, sut.plan, sut.role)


def test_roles_and_statuses_have_stable_wire_names():
    assert [r.value for r in Role] == ["user", "admin"]
    assert [s.value for s in AccountStatus] == ["active", "banned"]
