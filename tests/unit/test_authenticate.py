import asyncio
import hmac
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

import application.use_cases.authenticate as authenticate_module
from application.access_caches import AccessCaches
from application.plan_book import PlanBook
from application.principal import Principal
from application.use_cases.accounts import SetAccountBanned
from application.use_cases.api_keys import RevokeApiKey
from application.use_cases.authenticate import Authenticate
from domain.accounts import Account, new_account
from domain.errors import AccountBanned, AuthenticationFailed
from domain.keys import ApiKey, IssuedKey, hash_secret, issue_key
from domain.plans import DEFAULT_PLAN, Plan
from interfaces.wording import describe
from tests.fakes.memory import FakeClock, InMemoryAccountRepository, InMemoryApiKeyRepository

PEPPER = b"pepper-for-tests"
TTL = 5.0


@dataclass
class World:
    clock: FakeClock
    accounts: InMemoryAccountRepository
    keys: InMemoryApiKeyRepository
    plans: PlanBook
    account: Account
    issued: IssuedKey
    sut: Authenticate


@pytest.fixture
async def world() -> World:
    clock = FakeClock()
    accounts = InMemoryAccountRepository()
    keys = InMemoryApiKeyRepository(accounts)
    gold = Plan("gold", prepaid=True)
    plans = PlanBook([gold])
    account = new_account("ada@example.com", "gold", clock.now())
    await accounts.add(account)
    issued = issue_key(account.id, "laptop", PEPPER, clock.now(), active_keys=0)
    await keys.add(issued.key)
    sut = Authenticate(keys, plans, clock, PEPPER, ttl_seconds=TTL)
    return World(clock, accounts, keys, plans, account, issued, sut)


async def test_a_good_key_yields_its_principal(world: World):
    principal = await world.sut.execute(world.issued.secret)

    assert principal == Principal(key=world.issued.key, account=world.account, plan=world.plans.get("gold"))
    assert principal.plan.name == "gold"


async def test_an_account_on_a_removed_plan_gets_the_default_plan(world: World):
    await world.accounts.save(replace(world.account, plan="retired"))

    principal = await world.sut.execute(world.issued.secret)

    assert principal.plan is DEFAULT_PLAN


@pytest.mark.parametrize(
    "secret",
    [None, "", "Bearer sk-sluice-xyz", "sk-other-" + "a" * 40, "sk-sluice-short", "sk-sluice-" + "a" * 200],
)
async def test_malformed_secrets_are_refused_without_a_lookup(world: World, secret):
    with pytest.raises(AuthenticationFailed) as caught:
        await world.sut.execute(secret)

    assert describe(caught.value) == "Invalid API key provided."
    assert world.keys.lookups == []


async def test_an_unknown_key_is_refused(world: World):
    with pytest.raises(AuthenticationFailed):
        await world.sut.execute(world.issued.secret[:-1] + ("A" if world.issued.secret[-1] != "A" else "B"))


async def test_a_key_peppered_differently_is_refused(world: World):
    other = Authenticate(world.keys, world.plans, world.clock, b"another pepper")

    with pytest.raises(AuthenticationFailed):
        await other.execute(world.issued.secret)


async def test_a_revoked_key_is_refused(world: World):
    await world.keys.revoke(world.issued.key.id, world.clock.now())

    with pytest.raises(AuthenticationFailed):
        await world.sut.execute(world.issued.secret)


async def test_an_expired_key_is_refused_even_from_the_cache(world: World):
    expiring = issue_key(
        world.account.id,
        "ci",
        PEPPER,
        world.clock.now(),
        active_keys=1,
        expires_at=world.clock.now() + timedelta(seconds=2),
    )
    await world.keys.add(expiring.key)
    await world.sut.execute(expiring.secret)  # now cached for TTL seconds

    world.clock.advance(2)

    with pytest.raises(AuthenticationFailed):
        await world.sut.execute(expiring.secret)


async def test_a_banned_account_is_told_so(world: World):
    await world.accounts.save(world.account.banned())

    with pytest.raises(AccountBanned) as caught:
        await world.sut.execute(world.issued.secret)

    assert caught.value.code == "account_banned"


async def test_a_revoked_key_of_a_banned_account_is_just_invalid(world: World):
    await world.accounts.save(world.account.banned())
    await world.keys.revoke(world.issued.key.id, world.clock.now())

    with pytest.raises(AuthenticationFailed):
        await world.sut.execute(world.issued.secret)


async def test_the_cache_spares_the_repository_within_the_ttl(world: World):
    for _ in range(5):
        await world.sut.execute(world.issued.secret)
    world.clock.advance(TTL - 0.01)
    await world.sut.execute(world.issued.secret)

    assert world.keys.lookups == [hash_secret(world.issued.secret, PEPPER)]


async def test_a_revoked_key_stops_working_once_the_ttl_has_passed(world: World):
    await world.sut.execute(world.issued.secret)
    await world.keys.revoke(world.issued.key.id, world.clock.now())

    world.clock.advance(TTL - 0.5)
    await world.sut.execute(world.issued.secret)  # still served from the cache
    world.clock.advance(0.5)
    with pytest.raises(AuthenticationFailed):
        await world.sut.execute(world.issued.secret)
    assert len(world.keys.lookups) == 2


async def test_a_ban_takes_effect_once_the_ttl_has_passed(world: World):
    await world.sut.execute(world.issued.secret)
    await world.accounts.save(world.account.banned())

    await world.sut.execute(world.issued.secret)
    world.clock.advance(TTL)
    with pytest.raises(AccountBanned):
        await world.sut.execute(world.issued.secret)


async def test_forget_drops_the_cache_at_once(world: World):
    await world.sut.execute(world.issued.secret)
    await world.keys.revoke(world.issued.key.id, world.clock.now())

    world.sut.forget()

    with pytest.raises(AuthenticationFailed):
        await world.sut.execute(world.issued.secret)


async def test_a_bad_key_is_cached_too_and_a_new_lookup_follows_the_ttl(world: World):
    stranger = "sk-sluice-" + "z" * 43
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            await world.sut.execute(stranger)
    assert len(world.keys.lookups) == 1

    world.clock.advance(TTL)
    with pytest.raises(AuthenticationFailed):
        await world.sut.execute(stranger)
    assert len(world.keys.lookups) == 2


class _IndexReturningAnyKey(InMemoryApiKeyRepository):
    """An index that finds a row for a hash the row does not hold (a collision, a prefix index)."""

    def __init__(self, accounts: InMemoryAccountRepository, key: ApiKey) -> None:
        super().__init__(accounts)
        self._only = key

    async def find_with_account(self, secret_hash: str) -> tuple[ApiKey, Account] | None:
        self.lookups.append(secret_hash)
        account = await self._accounts.get(self._only.account_id)
        assert account is not None
        return self._only, account


async def test_a_found_key_whose_secret_differs_is_refused(world: World):
    keys = _IndexReturningAnyKey(world.accounts, world.issued.key)
    sut = Authenticate(keys, world.plans, world.clock, PEPPER)
    impostor = "sk-sluice-" + "i" * 43

    with pytest.raises(AuthenticationFailed):
        await sut.execute(impostor)

    assert keys.lookups == [hash_secret(impostor, PEPPER)]
    assert (await sut.execute(world.issued.secret)).key == world.issued.key


async def test_the_secret_is_checked_with_a_constant_time_compare(world: World, monkeypatch):
    checked: list[tuple[str, str]] = []
    compared: list[tuple[str, str]] = []
    real_matches, real_compare = authenticate_module.secret_matches, hmac.compare_digest

    def matches_spy(secret: str, stored_hash: str, pepper: bytes) -> bool:
        checked.append((secret, stored_hash))
        return real_matches(secret, stored_hash, pepper)

    def compare_spy(a, b):
        compared.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(authenticate_module, "secret_matches", matches_spy)
    monkeypatch.setattr(hmac, "compare_digest", compare_spy)

    await world.sut.execute(world.issued.secret)

    assert checked == [(world.issued.secret, world.issued.key.secret_hash)]
    assert compared == [(world.issued.key.secret_hash, world.issued.key.secret_hash)]


async def test_a_revocation_made_in_this_process_is_refused_at_once_and_elsewhere_after_the_ttl(world: World):
    elsewhere = Authenticate(world.keys, world.plans, world.clock, PEPPER, ttl_seconds=TTL)  # another replica
    await world.sut.execute(world.issued.secret)
    await elsewhere.execute(world.issued.secret)

    await RevokeApiKey(world.keys, world.clock, AccessCaches(world.sut)).execute(world.issued.key.id)

    with pytest.raises(AuthenticationFailed):
        await world.sut.execute(world.issued.secret)
    await elsewhere.execute(world.issued.secret)  # still cached there, as documented
    world.clock.advance(TTL)
    with pytest.raises(AuthenticationFailed):
        await elsewhere.execute(world.issued.secret)


async def test_a_ban_and_an_unban_made_in_this_process_apply_at_once(world: World):
    await world.sut.execute(world.issued.secret)
    ban = SetAccountBanned(world.accounts, AccessCaches(world.sut))

    await ban.execute(world.account.email, True)
    with pytest.raises(AccountBanned):
        await world.sut.execute(world.issued.secret)
    await ban.execute(world.account.email, False)
    assert (await world.sut.execute(world.issued.secret)).account.is_banned is False


async def test_forgetting_an_account_keeps_every_other_account_cached(world: World):
    other = new_account("bob@example.com", "gold", world.clock.now())
    await world.accounts.add(other)
    bobs = issue_key(other.id, "phone", PEPPER, world.clock.now(), active_keys=0)
    await world.keys.add(bobs.key)
    await world.sut.execute(world.issued.secret)
    await world.sut.execute(bobs.secret)

    world.sut.forget_account(world.account.id)
    await world.sut.execute(world.issued.secret)
    await world.sut.execute(bobs.secret)

    ada, bob = (hash_secret(s, PEPPER) for s in (world.issued.secret, bobs.secret))
    assert world.keys.lookups == [ada, bob, ada]  # only Ada's key was read again


class _CountingKeys:
    """The in-memory keys, counting lookups and taking a loop turn in each (as a database would)."""

    def __init__(self, inner: InMemoryApiKeyRepository) -> None:
        self._inner = inner
        self.lookups = 0

    async def find_with_account(self, secret_hash: str):  # type: ignore[no-untyped-def]
        self.lookups += 1
        await asyncio.sleep(0.01)
        return await self._inner.find_with_account(secret_hash)


async def test_requests_arriving_together_on_an_expired_key_share_one_lookup(world: World):
    keys = _CountingKeys(world.keys)
    sut = Authenticate(keys, world.plans, world.clock, PEPPER, ttl_seconds=TTL)  # type: ignore[arg-type]
    await sut.execute(world.issued.secret)
    world.clock.advance(TTL + 1)

    principals = await asyncio.gather(*(sut.execute(world.issued.secret) for _ in range(64)))

    assert keys.lookups == 2  # the first request, then one for all 64
    assert {p.key.id for p in principals} == {world.issued.key.id}


async def test_a_caller_that_goes_away_does_not_fail_the_others_waiting_on_its_lookup(world: World):
    keys = _CountingKeys(world.keys)
    sut = Authenticate(keys, world.plans, world.clock, PEPPER, ttl_seconds=TTL)  # type: ignore[arg-type]
    first = asyncio.ensure_future(sut.execute(world.issued.secret))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(sut.execute(world.issued.secret))
    await asyncio.sleep(0)
    first.cancel()

    assert (await second).key.id == world.issued.key.id
    assert keys.lookups == 1


async def test_a_revocation_during_a_lookup_is_not_undone_by_its_answer(world: World):
    keys = _CountingKeys(world.keys)
    sut = Authenticate(keys, world.plans, world.clock, PEPPER, ttl_seconds=TTL)  # type: ignore[arg-type]
    pending = asyncio.ensure_future(sut.execute(world.issued.secret))
    await asyncio.sleep(0)
    sut.forget_account(world.account.id)
    await pending  # read before the revocation: this one request may still pass

    await sut.execute(world.issued.secret)
    assert keys.lookups == 2  # the answer read before the revocation was not cached
