"""In-memory fakes of the OpenID Connect ports: linked identities, pending sign-ins, and a provider
that answers what the test tells it to (the real adapter is tested against a real provider)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from application.ports.identity_provider import AuthorizationStart
from domain.errors import Conflict, SignInRefused
from domain.identities import IdentityLink, PendingSignIn, ProviderIdentity, Refusal


class InMemoryIdentityRepository:
    def __init__(self) -> None:
        self.links: dict[tuple[str, str], IdentityLink] = {}

    async def get(self, issuer: str, subject: str) -> IdentityLink | None:
        return self.links.get((issuer, subject))

    async def add(self, link: IdentityLink) -> None:
        """Raises Conflict when the (issuer, subject) pair is linked already."""
        if (link.issuer, link.subject) in self.links:
            raise Conflict("linked already")
        self.links[(link.issuer, link.subject)] = link


class InMemoryPendingSignInStore:
    def __init__(self) -> None:
        self.pending: dict[str, PendingSignIn] = {}

    async def put(self, key: str, pending: PendingSignIn, now: datetime) -> None:
        self.pending = {k: p for k, p in self.pending.items() if p.expires_at > now}
        self.pending[key] = pending

    async def take(self, key: str, now: datetime) -> PendingSignIn | None:
        pending = self.pending.pop(key, None)
        return pending if pending is not None and pending.expires_at > now else None


@dataclass
class ScriptedProvider:
    """Begins with fixed secrets; `finish` checks the state, then gives `identity` (or raises `refusal`)."""

    id: str = "club"
    name: str = "Club login"
    identity: ProviderIdentity | None = None
    refusal: Refusal | None = None
    finished: list[Mapping[str, str]] = field(default_factory=list)
    begun: int = 0

    async def begin(self, redirect_uri: str) -> AuthorizationStart:
        self.begun += 1
        n = self.begun
        return AuthorizationStart(f"https://id.example/authorize?n={n}", f"state-{n}", f"nonce-{n}", f"verifier-{n}")

    async def finish(self, params: Mapping[str, str], pending: PendingSignIn) -> ProviderIdentity:
        self.finished.append(params)
        if params.get("state") != pending.state:
            raise SignInRefused(Refusal.STATE_MISMATCH)
        if self.refusal is not None:
            raise SignInRefused(self.refusal)
        assert self.identity is not None
        return self.identity
