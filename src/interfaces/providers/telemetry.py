"""Metrics: the Prometheus registry, watching the usage buffer and labelling the catalogue's models."""

from dishka import Provider, Scope, provide

from infrastructure.persistence.usage import BufferedSqlUsageRecorder
from infrastructure.telemetry.metered_recorder import MeteredUsageRecorder
from infrastructure.telemetry.model_labels import ModelLabels
from infrastructure.telemetry.prometheus import PrometheusTelemetry
from infrastructure.upstream.catalog import CachedModelCatalog
from interfaces.gateway_config import GatewayConfig
from interfaces.settings import Settings


class TelemetryProvider(Provider):
    scope = Scope.APP

    @provide
    def telemetry(
        self,
        settings: Settings,
        config: GatewayConfig,
        usage_store: BufferedSqlUsageRecorder,
        catalog: CachedModelCatalog,
    ) -> PrometheusTelemetry:
        telemetry = PrometheusTelemetry()
        telemetry.watch_usage_buffer(lambda: usage_store.pending, lambda: usage_store.flush_failures)
        telemetry.label_models(ModelLabels(catalog.lists, config.allowed_models, settings.metrics_max_models))
        return telemetry

    @provide
    def recorder(self, usage_store: BufferedSqlUsageRecorder, telemetry: PrometheusTelemetry) -> MeteredUsageRecorder:
        return MeteredUsageRecorder(usage_store, telemetry)
