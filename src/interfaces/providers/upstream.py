"""The upstream: one pooled client, and the model catalogue read through it (closed before it)."""

from collections.abc import AsyncIterator, Callable

from dishka import Provider, Scope, decorate, provide

from application.ports.moderation import ModerationUpstream, Moderator
from infrastructure.telemetry import tracing
from infrastructure.upstream.catalog import CachedModelCatalog
from infrastructure.upstream.moderation import OpenAIModerator
from infrastructure.upstream.openrouter import OpenRouterUpstream
from infrastructure.upstream.unconfigured import UnconfiguredUpstream
from interfaces.gateway_config import GatewayConfig
from interfaces.http.readiness import NotReady, Readiness
from interfaces.providers._closing import close_quietly
from interfaces.settings import Settings, moderation_unconfigured


def _trace_headers() -> Callable[[dict[str, str]], None] | None:
    """The upstream learns the trace only when the operator says so: it is a third party."""
    return tracing.inject_trace_headers if tracing.propagate_upstream() else None


class UpstreamProvider(Provider):
    scope = Scope.APP

    @provide
    async def upstream(self, settings: Settings) -> AsyncIterator[OpenRouterUpstream]:
        upstream = OpenRouterUpstream(
            settings.upstream_url,
            settings.upstream_api_key,
            timeout_read=settings.upstream_read_timeout,
            trace_headers=_trace_headers(),
        )
        yield upstream
        await close_quietly(upstream.aclose)

    @provide
    async def catalog(self, config: GatewayConfig, upstream: OpenRouterUpstream) -> AsyncIterator[CachedModelCatalog]:
        catalog = CachedModelCatalog(upstream, gateway_models=config.allowed_models, aliases=config.model_aliases)
        yield catalog
        await close_quietly(catalog.aclose)  # a refresh in flight must not outlive the client it reads

    @provide
    async def moderation_upstream(self, settings: Settings) -> AsyncIterator[ModerationUpstream]:
        """Its own server and key: without a key for OpenAI's, moderation answers 503 naming the setting."""
        missing = moderation_unconfigured(settings)
        upstream: OpenRouterUpstream | UnconfiguredUpstream = (
            UnconfiguredUpstream(missing)
            if missing
            else OpenRouterUpstream(
                settings.moderation_url,
                settings.moderation_api_key,
                timeout_read=settings.upstream_read_timeout,
                trace_headers=_trace_headers(),
            )
        )
        yield upstream
        await close_quietly(upstream.aclose)

    @provide
    def moderator(self, upstream: ModerationUpstream) -> Moderator:
        return OpenAIModerator(upstream)

    @decorate
    def readiness(self, readiness: Readiness, catalog: CachedModelCatalog) -> Readiness:
        async def catalogue() -> None:
            # A stale list counts: the gateway serves from it while refreshes fail.
            if not await catalog.known():
                raise NotReady("the model list could not be loaded from the upstream")

        return readiness.with_probe("upstream catalogue", catalogue)
