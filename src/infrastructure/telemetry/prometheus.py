"""Prometheus metrics (names are part of the operator contract: the Grafana dashboard reads them)."""

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from domain.usage import Outcome, UsageRecord

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class _FlushFailures(Collector):
    """A counter whose value the usage recorder keeps; read at scrape time."""

    def __init__(self, read: Callable[[], int]) -> None:
        self._read = read

    def collect(self):  # type: ignore[no-untyped-def]
        yield CounterMetricFamily(
            "sluice_usage_flush_failures", "Failed usage flushes since start", value=float(self._read())
        )


class PrometheusTelemetry:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
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

    def request_done(self, endpoint: str, model: str, status: int, seconds: float) -> None:
        self._requests.labels(endpoint, model, str(status)).inc()
        self._duration.labels(endpoint).observe(seconds)

    def upstream_done(self, endpoint: str, seconds: float) -> None:
        self._upstream.labels(endpoint).observe(seconds)

    def rate_limited(self, bucket: str) -> None:
        self._limited.labels(bucket).inc()

    def upstream_error(self, kind: str) -> None:
        self._errors.labels(kind).inc()

    def stream_opened(self) -> None:
        self._streams.inc()

    def stream_closed(self) -> None:
        self._streams.dec()

    def usage_recorded(self, record: UsageRecord) -> None:
        if record.prompt_tokens:
            self._tokens.labels("prompt", record.model).inc(record.prompt_tokens)
        if record.completion_tokens:
            self._tokens.labels("completion", record.model).inc(record.completion_tokens)
        if record.cost_micros:
            self._cost.labels(record.model).inc(record.cost_micros)
        if record.outcome is Outcome.STREAM_BROKEN:
            self._errors.labels("stream_broken").inc()

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
