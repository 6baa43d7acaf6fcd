"""The OpenID Connect providers the operator configured, by id, in the order the login page lists them."""

from collections.abc import Iterable

from application.ports.identity_provider import IdentityProvider
from domain.errors import SignInRefused
from domain.identities import Refusal


class IdentityProviderBook:
    def __init__(self, providers: Iterable[IdentityProvider] = ()) -> None:
        self._providers = {p.id: p for p in providers}

    def require(self, provider_id: str) -> IdentityProvider:
        provider = self._providers.get(provider_id)
        if provider is None:
            raise SignInRefused(Refusal.UNKNOWN_PROVIDER)
        return provider

    def buttons(self) -> list[tuple[str, str]]:
        """(id, name) of each provider, for the login page."""
        return [(p.id, p.name) for p in self._providers.values()]
