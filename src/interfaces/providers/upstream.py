"""The upstream: one pooled client, and the model catalogue read through it (closed before it)."""

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from infrastructure.upstream.catalog import CachedModelCatalog
from infrastructure.upstream.openrouter import OpenRouterUpstream
from interfaces.gateway_config import GatewayConfig
from interfaces.providers._closing import close_quietly
from interfaces.settings import Settings


class UpstreamProvider(Provider):
    scope = Scope.APP

    @provide
    async def upstream(self, settings: Settings) -> AsyncIterator[OpenRouterUpstream]:
        upstream = OpenRouterUpstream(
            settings.upstream_url, settings.upstream_api_key, timeout_read=settings.upstream_read_timeout
        )
        yield upstream
        await close_quietly(upstream.aclose)

    @provide
    async def catalog(self, config: GatewayConfig, upstream: OpenRouterUpstream) -> AsyncIterator[CachedModelCatalog]:
        catalog = CachedModelCatalog(upstream, gateway_models=config.allowed_models)
        yield catalog
        await close_quietly(catalog.aclose)  # a refresh in flight must not outlive the client it reads
