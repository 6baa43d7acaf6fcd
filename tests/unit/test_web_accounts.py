"""Sign-up, sign-in, sessions and passwords: the use cases over in-memory fakes."""

from dataclasses import dataclass
from datetime import timedelta

import pytest

from application.access_caches import AccessCaches
from application.plan_book import PlanBook
from application.use_cases.accounts import CreateAccount, FindAccount, SetAccountBanned
from application.use_cases.passwords import ChangePassword, SetPassword
from application.use_cases.sign_in import AttemptThrottle, SignIn
from application.use_cases.sign_up import SignUp
from application.use_cases.web_sessions import OpenWebSession, ResolveSession, SignOut, SignOutEverywhere
from domain.accounts import Role
from domain.attempt_limits import AttemptLimits
from domain.errors import (
    AccountBanned,
    Conflict,
    EmailDomainNotAllowed,
    InvalidRequest,
    NotFound,
    PasswordRejected,
    SignInFailed,
    SignUpClosed,
    TooManyAttempts,
)
from domain.sign_up import SignUpPolicy
from domain.web_sessions import TOUCH_EVERY, session_id_of
from tests.fakes.memory import FakeClock, InMemoryAccountRepository, RecordingRateLimiter
from tests.fakes.web_accounts import FakePasswordHasher, InMemoryPasswordStore, InMemorySessionStore

LIFETIME = timedelta(days=14)
GOOD = "correct horse battery"


@dataclass
class World:
    clock: FakeClock
    accounts: InMemoryAccountRepository
    passwords: InMemoryPasswordStore
    hasher: FakePasswordHasher
    sessions: InMemorySessionStore
    limiter: RecordingRateLimiter
    plans: PlanBook

    def throttle(self, limits: AttemptLimits = AttemptLimits()) -> AttemptThrottle:
        return AttemptThrottle(self.limiter, limits)

    def opener(self) -> OpenWebSession:
        return OpenWebSession(self.sessions, self.clock, LIFETIME)

    def sign_up(self, policy: SignUpPolicy = SignUpPolicy(), limits: AttemptLimits = AttemptLimits()) -> SignUp:
        create = CreateAccount(self.accounts, self.plans, self.clock)
        return SignUp(create, self.passwords, self.hasher, policy, self.throttle(limits), self.opener())

    def sign_in(self, limits: AttemptLimits = AttemptLimits()) -> SignIn:
        return SignIn(self.passwords, self.hasher, self.throttle(limits), self.opener())

    def resolve(self, cache_seconds: float = 5.0) -> ResolveSession:
        return ResolveSession(self.sessions, self.accounts, self.clock, LIFETIME, cache_seconds)


@pytest.fixture
def world() -> World:
    clock = FakeClock()
    accounts = InMemoryAccountRepository()
    return World(
        clock=clock,
        accounts=accounts,
        passwords=InMemoryPasswordStore(accounts),
        hasher=FakePasswordHasher(),
        sessions=InMemorySessionStore(),
        limiter=RecordingRateLimiter(clock),
        plans=PlanBook(),
    )


async def signed_up(world: World, email: str = "ada@example.org", password: str = GOOD):
    return await world.sign_up().execute(email, password, client_ip="192.0.2.1", user_agent="pytest")


# ------------------------------------------------------------------------------------------ sign-up


async def test_sign_up_creates_an_account_on_the_default_plan_signed_in(world: World) -> None:
    done = await signed_up(world, " Ada@Example.org ")
    assert done.account.email == "ada@example.org"
    assert done.account.plan == world.plans.default_name and done.account.role is Role.USER
    assert world.passwords.hashes[done.account.id] == f"fake$1${GOOD}"  # hashed, never stored plain
    stored = world.sessions.sessions[session_id_of(done.opened.token)]
    assert stored.account_id == done.account.id and stored.user_agent == "pytest"
    assert stored.expires_at == world.clock.now() + LIFETIME
    assert done.opened.token not in world.sessions.sessions  # only the digest is kept


async def test_sign_up_closed_and_limited_to_domains(world: World) -> None:
    closed = world.sign_up(SignUpPolicy(open=False))
    with pytest.raises(SignUpClosed):
        await closed.execute("ada@example.org", GOOD, client_ip="192.0.2.1")
    club = world.sign_up(SignUpPolicy(domains=("club.example",)))
    with pytest.raises(EmailDomainNotAllowed) as refused:
        await club.execute("ada@sub.club.example", GOOD, client_ip="192.0.2.1")
    assert refused.value.domain == "sub.club.example" and refused.value.allowed == ("club.example",)
    assert (await club.execute("bob@CLUB.example", GOOD, client_ip="192.0.2.1")).account.email == "bob@club.example"
    assert [a.email for a in world.accounts.all] == ["bob@club.example"]


async def test_sign_up_refuses_short_passwords_bad_emails_and_taken_emails(world: World) -> None:
    with pytest.raises(PasswordRejected) as short:
        await world.sign_up().execute("ada@example.org", "seven77", client_ip="192.0.2.1")
    assert (short.value.min_length, short.value.max_length) == (8, 1024)
    with pytest.raises(PasswordRejected):
        await world.sign_up().execute("ada@example.org", "x" * 1025, client_ip="192.0.2.1")
    with pytest.raises(InvalidRequest):
        await world.sign_up().execute("not an email", GOOD, client_ip="192.0.2.1")
    await signed_up(world)
    with pytest.raises(Conflict):
        await signed_up(world)
    assert len(world.accounts.all) == 1 and len(world.sessions.sessions) == 1


# ------------------------------------------------------------------------------------------ sign-in


async def test_sign_in_opens_a_new_session(world: World) -> None:
    first = await signed_up(world)
    again = await world.sign_in().execute("ADA@example.org", GOOD, client_ip="192.0.2.1")
    assert again.account.id == first.account.id
    assert again.opened.token != first.opened.token
    assert len(world.sessions.sessions) == 2


async def test_unknown_email_wrong_password_and_no_password_cost_one_verification_each(world: World) -> None:
    await signed_up(world)
    operator_made = await CreateAccount(world.accounts, world.plans, world.clock).execute("op@example.org")
    assert operator_made.id not in world.passwords.hashes
    sign_in = world.sign_in()
    for email in ("nobody@example.org", "ada@example.org", "op@example.org", "not-an-email"):
        world.hasher.verified.clear()
        with pytest.raises(SignInFailed):
            await sign_in.execute(email, "wrong password", client_ip="192.0.2.1")
        assert len(world.hasher.verified) == 1, email
    assert len(world.sessions.sessions) == 1  # the sign-up's, no other


async def test_a_banned_account_cannot_sign_in(world: World) -> None:
    await signed_up(world)
    await SetAccountBanned(world.accounts, AccessCaches()).execute("ada@example.org", True)
    with pytest.raises(AccountBanned):
        await world.sign_in().execute("ada@example.org", GOOD, client_ip="192.0.2.1")
    with pytest.raises(SignInFailed):  # the ban is told only to who knows the password
        await world.sign_in().execute("ada@example.org", "wrong password", client_ip="192.0.2.1")


async def test_attempts_are_limited_per_email_and_per_ip(world: World) -> None:
    await signed_up(world)
    world.limiter.tats.clear()  # the sign-up's attempt counted under other limits
    sign_in = world.sign_in(AttemptLimits(per_email=3, per_ip=5, window_seconds=900))
    for _ in range(3):
        with pytest.raises(SignInFailed):
            await sign_in.execute("ada@example.org", "wrong password", client_ip="192.0.2.1")
    with pytest.raises(TooManyAttempts) as limited:
        await sign_in.execute("ada@example.org", GOOD, client_ip="192.0.2.2")  # even the right password
    assert limited.value.subject == "email" and 0 < limited.value.retry_after <= 300
    for n in range(2):
        with pytest.raises(SignInFailed):
            await sign_in.execute(f"other{n}@example.org", "wrong password", client_ip="192.0.2.1")
    with pytest.raises(TooManyAttempts) as per_ip:
        await sign_in.execute("fresh@example.org", "wrong password", client_ip="192.0.2.1")
    assert per_ip.value.subject == "ip"
    world.clock.advance(300)  # one interval of the email's bucket (900 s / 3)
    assert (await sign_in.execute("ada@example.org", GOOD, client_ip="192.0.2.3")).account.email == "ada@example.org"
    keys = {check.key for call in world.limiter.calls for check in call}
    assert not any("ada@example.org" in key for key in keys)  # emails are hashed into the limiter's keys


async def test_a_stale_hash_is_replaced_at_sign_in(world: World) -> None:
    done = await signed_up(world)
    world.hasher.version = 2
    await world.sign_in().execute("ada@example.org", GOOD, client_ip="192.0.2.1")
    assert world.passwords.hashes[done.account.id] == f"fake$2${GOOD}"


# ------------------------------------------------------------------------------------------ sessions


async def test_a_session_resolves_slides_and_expires(world: World) -> None:
    done = await signed_up(world)
    resolve = world.resolve()
    active = await resolve.execute(done.opened.token)
    assert active is not None and active.account.id == done.account.id and not active.touched
    world.clock.advance(TOUCH_EVERY.total_seconds() - 1)
    assert not (await resolve.execute(done.opened.token)).touched  # type: ignore[union-attr]
    assert world.sessions.touches == 0
    world.clock.advance(1)
    slid = await resolve.execute(done.opened.token)
    assert slid is not None and slid.touched and slid.session.expires_at == world.clock.now() + LIFETIME
    assert world.sessions.touches == 1
    world.clock.advance(LIFETIME.total_seconds())
    assert await resolve.execute(done.opened.token) is None
    assert world.sessions.sessions == {}  # an expired session is dropped when presented


async def test_unknown_and_malformed_tokens_resolve_to_nobody(world: World) -> None:
    done = await signed_up(world)
    resolve = world.resolve()
    for token in (None, "", "short", "x" * 500, done.opened.session.id, done.opened.token + "x"):
        assert await resolve.execute(token) is None
    assert len(world.sessions.sessions) == 1


async def test_a_ban_ends_sessions_within_the_account_cache(world: World) -> None:
    done = await signed_up(world)
    resolve = world.resolve(cache_seconds=5)
    assert await resolve.execute(done.opened.token) is not None
    await SetAccountBanned(world.accounts, AccessCaches()).execute("ada@example.org", True)
    assert await resolve.execute(done.opened.token) is not None  # still cached
    world.clock.advance(5)
    assert await resolve.execute(done.opened.token) is None
    assert world.sessions.sessions == {}
    await SetAccountBanned(world.accounts, AccessCaches()).execute("ada@example.org", False)
    assert await resolve.execute(done.opened.token) is None  # an unban does not bring the session back


async def test_forget_drops_the_account_cache_at_once(world: World) -> None:
    done = await signed_up(world)
    resolve = world.resolve(cache_seconds=60)
    await resolve.execute(done.opened.token)
    await SetAccountBanned(world.accounts, AccessCaches()).execute("ada@example.org", True)
    resolve.forget()
    assert await resolve.execute(done.opened.token) is None


async def test_a_ban_made_in_this_process_ends_the_session_at_once(world: World) -> None:
    done = await signed_up(world)
    resolve = world.resolve(cache_seconds=60)
    assert await resolve.execute(done.opened.token) is not None
    await SetAccountBanned(world.accounts, AccessCaches(resolve)).execute("ada@example.org", True)
    assert await resolve.execute(done.opened.token) is None


async def test_sign_out_and_sign_out_everywhere(world: World) -> None:
    first = await signed_up(world)
    second = await world.sign_in().execute("ada@example.org", GOOD, client_ip="192.0.2.1")
    third = await world.sign_in().execute("ada@example.org", GOOD, client_ip="192.0.2.1")
    other = await signed_up(world, "bob@example.org")
    await SignOut(world.sessions).execute(first.opened.session.id)
    resolve = world.resolve()
    assert await resolve.execute(first.opened.token) is None
    assert await resolve.execute(second.opened.token) is not None
    assert await SignOutEverywhere(world.sessions).execute(first.account.id) == 2
    assert await resolve.execute(third.opened.token) is None
    assert await resolve.execute(other.opened.token) is not None


async def test_opening_a_session_purges_expired_ones(world: World) -> None:
    old = await signed_up(world)
    world.clock.advance(LIFETIME.total_seconds() + 1)
    await world.sign_in().execute("ada@example.org", GOOD, client_ip="192.0.2.1")
    assert old.opened.session.id not in world.sessions.sessions and len(world.sessions.sessions) == 1


# ------------------------------------------------------------------------------------------ passwords


async def test_set_password_lets_an_operator_made_account_sign_in_and_ends_its_sessions(world: World) -> None:
    done = await signed_up(world)
    set_password = SetPassword(FindAccount(world.accounts), world.passwords, world.hasher, world.sessions)
    account, ended = await set_password.execute("ADA@example.org", "a new passphrase")
    assert account.id == done.account.id and ended == 1
    with pytest.raises(SignInFailed):
        await world.sign_in().execute("ada@example.org", GOOD, client_ip="192.0.2.1")
    assert await world.sign_in().execute("ada@example.org", "a new passphrase", client_ip="192.0.2.1")
    with pytest.raises(PasswordRejected):
        await set_password.execute("ada@example.org", "short")
    with pytest.raises(NotFound):
        await set_password.execute("nobody@example.org", "long enough")


async def test_change_password_checks_the_current_one_and_keeps_this_session(world: World) -> None:
    here = await signed_up(world)
    elsewhere = await world.sign_in().execute("ada@example.org", GOOD, client_ip="192.0.2.1")
    change = ChangePassword(world.passwords, world.hasher, world.sessions)
    with pytest.raises(SignInFailed):
        await change.execute(here.account.id, here.opened.session.id, "not it", "a new passphrase")
    with pytest.raises(PasswordRejected):
        await change.execute(here.account.id, here.opened.session.id, GOOD, "short")
    assert await change.execute(here.account.id, here.opened.session.id, GOOD, "a new passphrase") == 1
    assert set(world.sessions.sessions) == {here.opened.session.id}
    assert elsewhere.opened.session.id not in world.sessions.sessions
    assert world.passwords.hashes[here.account.id] == "fake$1$a new passphrase"


async def test_change_password_without_a_current_one(world: World) -> None:
    account = await CreateAccount(world.accounts, world.plans, world.clock).execute("op@example.org")
    opened = await world.opener().execute(account)
    change = ChangePassword(world.passwords, world.hasher, world.sessions)
    assert await change.execute(account.id, opened.session.id, "", "a first passphrase") == 0
    assert world.passwords.hashes[account.id] == "fake$1$a first passphrase"
