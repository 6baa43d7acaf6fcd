import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidRequest, TooManyKeys
from domain.keys import (
    DEFAULT_MAX_ACTIVE_KEYS,
    KEY_PREFIX,
    ApiKey,
    hash_secret,
    issue_key,
    looks_like_key,
    secret_matches,
)

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
PEPPER = b"a-pepper"


def issue(**overrides):
    args = {"account_id": "acct_1", "name": "laptop", "pepper": PEPPER, "now": NOW, "active_keys": 0}
    args.update(overrides)
    return issue_key(**args)


def test_issued_secret_has_the_prefix_and_is_stored_only_as_its_hmac():
    sut = issue()

    assert sut.secret.startswith("sk-sluice-")
    assert KEY_PREFIX == "sk-sluice-"
    assert len(sut.secret) == len("sk-sluice-") + 43  # 32 random bytes, urlsafe base64 without padding
    assert sut.key.secret_hash == hmac.new(PEPPER, sut.secret.encode(), hashlib.sha256).hexdigest()
    assert sut.secret not in sut.key.secret_hash
    assert sut.key.prefix == sut.secret[:16]
    assert sut.key.id.startswith("key_") and len(sut.key.id) == 4 + 16
    assert sut.key.account_id == "acct_1"
    assert sut.key.created_at == NOW
    assert sut.key.revoked_at is None
    assert looks_like_key(sut.secret)


def test_every_issue_draws_a_fresh_secret_and_id():
    first, second = issue(), issue()

    assert first.secret != second.secret
    assert first.key.id != second.key.id
    assert first.key.secret_hash != second.key.secret_hash


def test_hash_depends_on_the_pepper():
    assert hash_secret("sk-sluice-abc", b"one") != hash_secret("sk-sluice-abc", b"two")
    assert hash_secret("sk-sluice-abc", b"one") == hash_secret("sk-sluice-abc", b"one")
    assert len(hash_secret("sk-sluice-abc", b"one")) == 64


def test_secret_matches_only_the_right_secret_and_pepper():
    sut = issue()

    assert secret_matches(sut.secret, sut.key.secret_hash, PEPPER) is True
    assert secret_matches(sut.secret + "x", sut.key.secret_hash, PEPPER) is False
    assert secret_matches(sut.secret, sut.key.secret_hash, b"other pepper") is False


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("sk-sluice-" + "a" * 10, True),  # 20 characters, the shortest accepted
        ("sk-sluice-" + "a" * 9, False),  # 19
        ("sk-sluice-" + "a" * 118, True),  # 128, the longest accepted
        ("sk-sluice-" + "a" * 119, False),  # 129
        ("sk-other-" + "a" * 30, False),
        ("SK-SLUICE-" + "a" * 30, False),
        ("", False),
    ],
)
def test_looks_like_key(candidate, expected):
    assert looks_like_key(candidate) is expected


def test_name_is_stripped_and_must_be_1_to_100_characters():
    assert issue(name="  ci runner  ").key.name == "ci runner"
    assert issue(name="n" * 100).key.name == "n" * 100
    for bad in ("", "   ", "n" * 101):
        with pytest.raises(InvalidRequest) as caught:
            issue(name=bad)
        assert caught.value.param == "name"


def test_the_active_key_cap_refuses_at_the_limit():
    assert DEFAULT_MAX_ACTIVE_KEYS == 50
    issue(active_keys=49)  # the 50th is fine
    with pytest.raises(TooManyKeys):
        issue(active_keys=50)
    with pytest.raises(TooManyKeys):
        issue(active_keys=3, max_active=3)
    issue(active_keys=2, max_active=3)


def test_expiry_must_lie_in_the_future():
    later = NOW + timedelta(days=30)
    assert issue(expires_at=later).key.expires_at == later
    for bad in (NOW, NOW - timedelta(seconds=1)):
        with pytest.raises(InvalidRequest) as caught:
            issue(expires_at=bad)
        assert caught.value.param == "expires_at"


def test_allowed_models_are_kept_on_the_key():
    sut = issue(allowed_models=frozenset({"openai/gpt-4o-mini"})).key

    assert sut.allows_model("openai/gpt-4o-mini") is True
    assert sut.allows_model("anthropic/claude-3.5-sonnet") is False
    assert issue().key.allows_model("anything/at-all") is True


def _key(**overrides) -> ApiKey:
    fields = {
        "id": "key_1",
        "account_id": "acct_1",
        "name": "k",
        "prefix": "sk-sluice-abcdef",
        "secret_hash": "h",
        "created_at": NOW,
    }
    fields.update(overrides)
    return ApiKey(**fields)


def test_a_key_is_active_until_it_expires_or_is_revoked():
    expiring = _key(expires_at=NOW + timedelta(hours=1))

    assert _key().is_active(NOW + timedelta(days=3650)) is True
    assert expiring.is_active(NOW + timedelta(minutes=59, seconds=59)) is True
    assert expiring.is_active(NOW + timedelta(hours=1)) is False  # the expiry instant is already past
    assert _key(revoked_at=NOW).is_active(NOW - timedelta(days=1)) is False


def test_revoking_twice_keeps_the_first_time():
    sut = _key()
    once = sut.revoked(NOW)
    twice = once.revoked(NOW + timedelta(hours=1))

    assert sut.revoked_at is None  # keys are values; revoking returns a new one
    assert once.revoked_at == NOW
    assert twice.revoked_at == NOW
    assert twice is once
