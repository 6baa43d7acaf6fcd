"""The web side's small rules: settings, the sign-up policy, `next` redirects, keys for the dashboard."""

from datetime import timedelta
from pathlib import Path

import pytest

from application.access_caches import AccessCaches
from application.plan_book import PlanBook
from application.use_cases.accounts import CreateAccount
from application.use_cases.api_keys import IssueApiKey, RevokeApiKey
from application.use_cases.key_listing import ListKeysWithUse
from domain.errors import NotFound
from domain.usage import Outcome, UsageRecord
from interfaces.settings import SettingsError, load_settings
from interfaces.web.auth_pages import safe_next
from tests.fakes.memory import FakeClock, InMemoryAccountRepository, InMemoryApiKeyRepository, InMemoryUsageStore


def _settings(tmp_path: Path, **env: str):
    return load_settings({"SLUICE_DATA_DIR": str(tmp_path), "SLUICE_UPSTREAM_URL": "http://127.0.0.1:1", **env})


def test_web_settings_defaults(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    assert (s.signup_open, s.signup_domains, s.session_days) == (True, (), 14)
    assert (s.signin_attempts_per_email, s.signin_attempts_per_ip) == (10, 30)


def test_web_settings_read(tmp_path: Path) -> None:
    s = _settings(
        tmp_path,
        SLUICE_SIGNUP="Closed",
        SLUICE_SIGNUP_DOMAINS=" Club.Example, @uni.example ,,",
        SLUICE_SESSION_DAYS="3",
        SLUICE_SIGNIN_ATTEMPTS_PER_IP="500",
    )
    assert (s.signup_open, s.signup_domains, s.session_days) == (False, ("club.example", "uni.example"), 3)
    assert s.signin_attempts_per_ip == 500


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"SLUICE_SIGNUP": "maybe"}, "SLUICE_SIGNUP must be open or closed"),
        ({"SLUICE_SIGNUP_DOMAINS": "ada@club.example"}, "SLUICE_SIGNUP_DOMAINS"),
        ({"SLUICE_SESSION_DAYS": "0"}, "SLUICE_SESSION_DAYS must lie between 1 and 365"),
        ({"SLUICE_SIGNIN_ATTEMPTS_PER_EMAIL": "ten"}, "SLUICE_SIGNIN_ATTEMPTS_PER_EMAIL must be an integer"),
    ],
)
def test_bad_web_settings_stop_the_start_with_their_name(tmp_path: Path, env: dict[str, str], said: str) -> None:
    with pytest.raises(SettingsError, match=said):
        _settings(tmp_path, **env)


@pytest.mark.parametrize(
    ("raw", "target"),
    [
        (None, "/dashboard"),
        ("", "/dashboard"),
        ("/keys", "/keys"),
        ("/usage?days=7#chart", "/usage?days=7#chart"),
        ("//evil.example/x", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("keys", "/dashboard"),
        ("/keys\r\nSet-Cookie: x=1", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
    ],
)
def test_next_is_only_ever_a_local_path(raw: str | None, target: str) -> None:
    assert safe_next(raw) == target


def _record(key_id: str, account_id: str, at) -> UsageRecord:  # type: ignore[no-untyped-def]
    return UsageRecord(
        id=f"req-{key_id}-{at.timestamp()}",
        account_id=account_id,
        key_id=key_id,
        endpoint="chat",
        model="openai/gpt-4o-mini",
        outcome=Outcome.OK,
        http_status=200,
        prompt_tokens=1,
        completion_tokens=1,
        cost_micros=0,
        charged_micros=0,
        latency_ms=1,
        streamed=False,
        created_at=at,
    )


async def test_keys_are_listed_active_first_with_their_last_use() -> None:
    clock = FakeClock()
    accounts = InMemoryAccountRepository()
    keys = InMemoryApiKeyRepository(accounts)
    account = await CreateAccount(accounts, PlanBook(), clock).execute("ada@example.org")
    issue = IssueApiKey(accounts, keys, clock, b"pepper")
    old = await issue.execute("ada@example.org", "old")
    clock.advance(60)
    used = await issue.execute("ada@example.org", "used")
    clock.advance(60)
    await issue.execute("ada@example.org", "fresh", expires_at=clock.now() + timedelta(days=1))
    await RevokeApiKey(keys, clock, AccessCaches()).execute(old.key.id)
    earlier = clock.now() - timedelta(seconds=30)
    records = [_record(used.key.id, account.id, earlier), _record(used.key.id, account.id, clock.now())]
    usage = InMemoryUsageStore(records)
    listed = await ListKeysWithUse(keys, usage, clock).execute(account.id)
    assert [(k.key.name, k.active, k.last_used) for k in listed] == [
        ("fresh", True, None),
        ("used", True, clock.now()),
        ("old", False, None),
    ]
    clock.advance(86400)
    after_expiry = await ListKeysWithUse(keys, usage, clock).execute(account.id)
    assert [(k.key.name, k.active) for k in after_expiry] == [("used", True), ("fresh", False), ("old", False)]


async def test_revoking_with_an_owner_refuses_other_accounts_keys_as_unknown() -> None:
    clock = FakeClock()
    accounts = InMemoryAccountRepository()
    keys = InMemoryApiKeyRepository(accounts)
    ada = await CreateAccount(accounts, PlanBook(), clock).execute("ada@example.org")
    bob = await CreateAccount(accounts, PlanBook(), clock).execute("bob@example.org")
    key = await IssueApiKey(accounts, keys, clock, b"pepper").execute("ada@example.org", "laptop")
    revoke = RevokeApiKey(keys, clock, AccessCaches())
    with pytest.raises(NotFound):
        await revoke.execute(key.key.id, owner_id=bob.id)
    assert (await keys.get(key.key.id)).revoked_at is None  # type: ignore[union-attr]
    _, changed = await revoke.execute(key.key.id, owner_id=ada.id)
    assert changed
