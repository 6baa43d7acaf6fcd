"""Prometheus metrics (names are part of the operator contract: the Grafana dashboard reads them).

No method raises: telemetry runs inside settlement and recording, and a metric that fails must not
stop a charge or a usage record (it is logged instead). No label takes a client's string as it is:
``model`` goes through `ModelLabels`.
"""

import logging
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from domain.usage import Outcome, UsageRecord
from infrastructure.telemetry.model_labels import ModelLabels

log = logging.getLogger("sluice.telemetry")

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class _FlushFailures(Collector):
    """A counter whose value the usage recorder keeps; read at scrape time."""

    def __init__(self, read: Callable[[], int]) -> None:
        self._read = read

    def collect(self):  # type: ignore[no-untyped-def]
        yield CounterMetricFamily(
            "sluice_usage_flush_failures", "Failed usage flushes since start", value=float(self._read())
        )


def _nobody_listed(model_id: str) -> bool:
    return False


def _positive(value: object) -> bool:
    return type(value) is int and value > 0


class PrometheusTelemetry:
    """The ``model`` label is bounded by `label_models`; until it is called, every model is ``other``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._model = ModelLabels(_nobody_listed, None, 0)
        r = self.registry
        self._requests = Counter(
            "sluice_requests",
            "Proxied requests by endpoint, model and status",
            ["endpoint", "model", "status"],
            registry=r,
        )
        self._duration = Histogram(
            "sluice_request_duration_seconds",
            "Time to the response head",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self._upstream = Histogram(
            "sluice_upstream_duration_seconds", "Upstream call time", ["endpoint"], buckets=_LATENCY_BUCKETS, registry=r
        )
        self._tokens = Counter("sluice_tokens", "Tokens metered", ["kind", "model"], registry=r)
        self._cost = Counter("sluice_cost_microusd", "Upstream cost in micro-dollars", ["model"], registry=r)
        self._limited = Counter("sluice_rate_limited", "Requests refused by a rate policy", ["bucket"], registry=r)
        self._errors = Counter("sluice_upstream_errors", "Upstream failures by kind", ["kind"], registry=r)
        self._streams = Gauge("sluice_active_streams", "Streams being relayed now", registry=r)
        self._buffer = Gauge("sluice_usage_buffer_depth", "Usage records waiting for the database", registry=r)
        self._flush_failures: Callable[[], int] = lambda: 0
        r.register(_FlushFailures(lambda: self._flush_failures()))

    def watch_usage_buffer(self, depth: Callable[[], int], failures: Callable[[], int]) -> None:
        self._buffer.set_function(lambda: float(depth()))
        self._flush_failures = failures

    def label_models(self, labels: ModelLabels) -> None:
        self._model = labels

    # A try costs nothing until something raises; each method logs and carries on.

    def request_done(self, endpoint: str, model: str, status: int, seconds: float) -> None:
        try:
            self._requests.labels(endpoint, self._model(model), str(status)).inc()
            self._duration.labels(endpoint).observe(max(0.0, seconds))
        except Exception:
            log.exception("metrics: counting a request failed (endpoint %s, status %s)", endpoint, status)

    def upstream_done(self, endpoint: str, seconds: float) -> None:
        try:
            self._upstream.labels(endpoint).observe(max(0.0, seconds))
        except Exception:
            log.exception("metrics: timing an upstream call failed (endpoint %s)", endpoint)

    def rate_limited(self, bucket: str) -> None:
        try:
            self._limited.labels(bucket).inc()
        except Exception:
            log.exception("metrics: counting a rate-limited request failed")

    def upstream_error(self, kind: str) -> None:
        try:
            self._errors.labels(kind).inc()
        except Exception:
            log.exception("metrics: counting an upstream error failed")

    def stream_opened(self) -> None:
        try:
            self._streams.inc()
        except Exception:
            log.exception("metrics: counting an open stream failed")

    def stream_closed(self) -> None:
        try:
            self._streams.dec()
        except Exception:
            log.exception("metrics: counting a closed stream failed")

    def usage_recorded(self, record: UsageRecord) -> None:
        try:
            model = self._model(record.model)
            # Counters only go up: a negative figure (never billed either) is not counted.
            if _positive(record.prompt_tokens):
                self._tokens.labels("prompt", model).inc(record.prompt_tokens)
            if _positive(record.completion_tokens):
                self._tokens.labels("completion", model).inc(record.completion_tokens)
            if _positive(record.cost_micros):
                self._cost.labels(model).inc(record.cost_micros)
            if record.outcome is Outcome.STREAM_BROKEN:
                self._errors.labels("stream_broken").inc()
        except Exception:
            log.exception("metrics: counting usage record %s failed", getattr(record, "id", "?"))

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
