"""Metrics: the Prometheus registry and what it watches, the observed upstreams, the request report."""

from dishka import Provider, Scope, decorate, provide

from application.credit_leases import LeasedCreditLedger
from application.ports.moderation import ModerationUpstream
from application.ports.upstream import Upstream
from infrastructure.persistence.usage import BufferedSqlUsageRecorder
from infrastructure.telemetry.backend_errors import BackendErrors
from infrastructure.telemetry.model_labels import ModelLabels
from infrastructure.telemetry.observed_upstream import ObservedUpstream
from infrastructure.telemetry.prometheus import Gauges, PrometheusTelemetry
from infrastructure.telemetry.request_report import RequestReport
from infrastructure.telemetry.traced_upstream import traced_upstream
from infrastructure.upstream.catalog import CachedModelCatalog
from infrastructure.upstream.openrouter import OpenRouterUpstream
from interfaces.gateway_config import GatewayConfig
from interfaces.settings import Settings


class BackendErrorsProvider(Provider):
    """Before persistence and limits: the engine and the Redis clients report to it."""

    scope = Scope.APP
    errors = provide(BackendErrors)


class TelemetryProvider(Provider):
    scope = Scope.APP

    @provide
    def telemetry(
        self,
        settings: Settings,
        config: GatewayConfig,
        usage_store: BufferedSqlUsageRecorder,
        catalog: CachedModelCatalog,
        ledger: LeasedCreditLedger,
        errors: BackendErrors,
    ) -> PrometheusTelemetry:
        telemetry = PrometheusTelemetry()
        telemetry.on_app_port = settings.metrics_port is None
        telemetry.watch(
            Gauges(
                usage_depth=lambda: usage_store.pending,
                usage_lag=usage_store.oldest_pending_seconds,
                usage_failures=lambda: usage_store.flush_failures,
                leases_open=lambda: ledger.open_leases,
                lease_oldest=ledger.oldest_lease_seconds,
                redis_errors=lambda: errors.redis,
                database_errors=lambda: errors.database,
            )
        )
        telemetry.label_models(ModelLabels(catalog.lists, config.allowed_models, settings.metrics_max_models))
        return telemetry

    @provide
    def upstream(self, settings: Settings, upstream: OpenRouterUpstream, telemetry: PrometheusTelemetry) -> Upstream:
        # Traced inside the timing, so the span is the upstream's own time (no span when tracing is off).
        return ObservedUpstream(traced_upstream(upstream, settings.upstream_url, "openrouter"), telemetry)

    @decorate
    def moderation_upstream(
        self, settings: Settings, upstream: ModerationUpstream, telemetry: PrometheusTelemetry
    ) -> ModerationUpstream:
        traced = traced_upstream(upstream, settings.moderation_url, "openai")
        return ObservedUpstream(traced, telemetry)  # type: ignore[return-value]

    @provide
    def report(self, settings: Settings, telemetry: PrometheusTelemetry) -> RequestReport:
        return RequestReport(telemetry, log_requests=settings.request_log)
