"""Signing in through an OpenID Connect provider: start, come back, and find (or make) the account.

The browser keeps only a random token in a short-lived cookie; what the callback is checked against
(state, nonce, PKCE verifier, redirect URI) stays server-side under the token's SHA-256 and is
taken once, so a callback can neither be forged from another browser nor replayed.
"""

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from application.identity_providers import IdentityProviderBook
from application.ports.accounts import AccountRepository
from application.ports.clock import Clock
from application.ports.identities import IdentityRepository
from application.ports.pending_sign_ins import PendingSignInStore
from application.use_cases.accounts import CreateAccount
from application.use_cases.sign_in import SignedIn
from application.use_cases.web_sessions import OpenWebSession
from domain.accounts import Account, normalize_email
from domain.errors import AccountBanned, Conflict, InvalidRequest, NotFound, SignInRefused
from domain.identities import IdentityLink, PendingSignIn, ProviderIdentity, Refusal, local_path
from domain.sign_up import SignUpPolicy

PENDING_SECONDS = 600  # time to get through the provider's pages


def pending_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StartedSignIn:
    authorization_url: str
    token: str  # for the browser's cookie; the pending sign-in is stored under its hash
    max_age_seconds: int


@dataclass(frozen=True, slots=True)
class FinishedSignIn:
    signed_in: SignedIn  # the account and its new session, as a password sign-in gives them
    next_path: str


class SignInWithProvider:
    """A verified identity to its account: the linked one, else the account of its verified email
    (linked from now on), else a new account on the default plan where the sign-up policy allows."""

    def __init__(
        self,
        identities: IdentityRepository,
        accounts: AccountRepository,
        create_account: CreateAccount,
        policy: SignUpPolicy,
        clock: Clock,
    ) -> None:
        self._identities = identities
        self._accounts = accounts
        self._create = create_account
        self._policy = policy
        self._clock = clock

    async def execute(self, identity: ProviderIdentity) -> Account:
        link = await self._identities.get(identity.issuer, identity.subject)
        if link is not None:
            return _admitted(await self._linked_account(link))
        email = _verified_email(identity)
        account = await self._accounts.get_by_email(email)
        if account is None:
            self._policy.check(email)  # SignUpClosed, EmailDomainNotAllowed
            account = await self._create_or_find(email)
        _admitted(account)  # a banned account is not linked either
        return await self._link(identity, account)

    async def _linked_account(self, link: IdentityLink) -> Account:
        account = await self._accounts.get(link.account_id)
        if account is None:
            raise NotFound(f"account {link.account_id} of a linked identity")
        return account

    async def _create_or_find(self, email: str) -> Account:
        try:
            return await self._create.execute(email)
        except Conflict:
            # Another sign-in (or the sign-up page) made it a moment ago.
            account = await self._accounts.get_by_email(email)
            if account is None:
                raise
            return account

    async def _link(self, identity: ProviderIdentity, account: Account) -> Account:
        link = IdentityLink(identity.issuer, identity.subject, account.id, self._clock.now())
        try:
            await self._identities.add(link)
        except Conflict:
            # The same identity's first sign-in ran twice at once: the link that won decides.
            won = await self._identities.get(identity.issuer, identity.subject)
            if won is None:
                raise
            return _admitted(await self._linked_account(won))
        return account


def _verified_email(identity: ProviderIdentity) -> str:
    if not identity.email:
        raise SignInRefused(Refusal.EMAIL_MISSING)
    if not identity.email_verified:
        raise SignInRefused(Refusal.EMAIL_UNVERIFIED)
    try:
        return normalize_email(identity.email)
    except InvalidRequest:
        raise SignInRefused(Refusal.EMAIL_MISSING) from None


def _admitted(account: Account) -> Account:
    if account.is_banned:
        raise AccountBanned()
    return account


class BeginProviderSignIn:
    def __init__(self, providers: IdentityProviderBook, pending: PendingSignInStore, clock: Clock) -> None:
        self._providers = providers
        self._pending = pending
        self._clock = clock

    async def execute(self, provider_id: str, redirect_uri: str, next_path: str | None = None) -> StartedSignIn:
        provider = self._providers.require(provider_id)
        start = await provider.begin(redirect_uri)
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        pending = PendingSignIn(
            provider_id=provider.id,
            state=start.state,
            nonce=start.nonce,
            code_verifier=start.code_verifier,
            redirect_uri=redirect_uri,
            next_path=local_path(next_path),
            expires_at=now + timedelta(seconds=PENDING_SECONDS),
        )
        await self._pending.put(pending_key(token), pending, now)
        return StartedSignIn(start.url, token, PENDING_SECONDS)


class FinishProviderSignIn:
    def __init__(
        self,
        providers: IdentityProviderBook,
        pending: PendingSignInStore,
        sign_in: SignInWithProvider,
        open_session: OpenWebSession,
        clock: Clock,
    ) -> None:
        self._providers = providers
        self._pending = pending
        self._sign_in = sign_in
        self._open = open_session
        self._clock = clock

    async def execute(
        self, provider_id: str, token: str | None, params: Mapping[str, str], *, user_agent: str = ""
    ) -> FinishedSignIn:
        provider = self._providers.require(provider_id)
        # Taken before any check: whatever happens next, this attempt cannot be used again.
        pending = await self._pending.take(pending_key(token), self._clock.now()) if token else None
        if pending is None:
            raise SignInRefused(Refusal.EXPIRED)
        if pending.provider_id != provider.id:
            raise SignInRefused(Refusal.STATE_MISMATCH)
        identity = await provider.finish(params, pending)
        account = await self._sign_in.execute(identity)
        opened = await self._open.execute(account, user_agent)
        return FinishedSignIn(SignedIn(account, opened), pending.next_path)
