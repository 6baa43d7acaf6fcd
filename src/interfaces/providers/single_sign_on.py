"""Sign-in through OpenID Connect providers: one authlib client per configured provider (closed at
the end), the identity and pending sign-in stores in the database, and the use cases over them.
Kept in one file so that the whole feature is wired in one place."""

from collections.abc import AsyncIterator

from dishka import Provider, Scope, alias, provide

from application.identity_providers import IdentityProviderBook
from application.ports.identities import IdentityRepository
from application.ports.pending_sign_ins import PendingSignInStore
from application.use_cases.provider_sign_in import BeginProviderSignIn, FinishProviderSignIn, SignInWithProvider
from infrastructure.oidc.authlib_provider import AuthlibIdentityProvider
from infrastructure.persistence.identities import SqlIdentityRepository, SqlPendingSignInStore
from interfaces.gateway_config import GatewayConfig
from interfaces.providers._closing import close_quietly


class SingleSignOnProvider(Provider):
    scope = Scope.APP

    @provide
    async def identity_providers(self, config: GatewayConfig) -> AsyncIterator[IdentityProviderBook]:
        clients = [
            AuthlibIdentityProvider(
                provider_id=client.id,
                name=client.name,
                issuer=client.issuer,
                client_id=client.client_id,
                client_secret=client.client_secret,
            )
            for client in config.oidc_providers
        ]
        yield IdentityProviderBook(clients)
        for client in clients:
            await close_quietly(client.aclose)

    sql_identities = provide(SqlIdentityRepository)
    sql_pending = provide(SqlPendingSignInStore)
    identities = alias(SqlIdentityRepository, provides=IdentityRepository)
    pending = alias(SqlPendingSignInStore, provides=PendingSignInStore)

    sign_in_with_provider = provide(SignInWithProvider)
    begin = provide(BeginProviderSignIn)
    finish = provide(FinishProviderSignIn)
