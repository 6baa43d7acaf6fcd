from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from domain.identities import PendingSignIn, ProviderIdentity


@dataclass(frozen=True, slots=True)
class AuthorizationStart:
    """Where to send the browser, and the secrets of this one attempt (kept server-side until the callback)."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class IdentityProvider(Protocol):
    """One OpenID Connect provider (a club's Google, GitHub through an OIDC bridge, Slack...)."""

    @property
    def id(self) -> str:
        """The provider's name in URLs (`/login/oidc/<id>`)."""
        ...

    @property
    def name(self) -> str:
        """What the sign-in button says."""
        ...

    async def begin(self, redirect_uri: str) -> AuthorizationStart:
        """Raises SignInRefused(PROVIDER_UNAVAILABLE) when the provider cannot be reached."""
        ...

    async def finish(self, params: Mapping[str, str], pending: PendingSignIn) -> ProviderIdentity:
        """Checks the callback's `params` against what was kept, redeems the code and verifies the ID
        token (signature, issuer, audience, expiry, nonce). Raises SignInRefused naming the failed check."""
        ...
