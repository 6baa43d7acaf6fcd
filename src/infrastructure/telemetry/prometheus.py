"""Prometheus metrics (names are part of the operator contract: the dashboards and alert rules read them).

No method raises: telemetry runs inside the request's reporting and settlement, and a metric that
fails must not cost an answer or a usage record (it is logged instead). No label takes a client's
string as it is: ``model`` goes through `ModelLabels`, and family, endpoint, plan, bucket and kind
come from the gateway's own fixed names and the operator's configuration.

Several worker processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (``sluice serve`` sets it when it
starts more than one worker), each process writes its values to files there and any worker's
scrape reads them all, so one scrape sees the whole server. Gauges of what a process holds are
summed over the live processes; ages take the largest.
"""

import logging
import os
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from application.observation import Observation
from infrastructure.telemetry.model_labels import ModelLabels

log = logging.getLogger("sluice.telemetry")

# From 100 µs: the gateway's own overhead is a fraction of a millisecond and must resolve.
LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
)  # fmt: skip
NONE = "none"
UPSTREAM_ERROR_KINDS = ("connect", "timeout", "protocol", "disconnected", "stream_broken", "status_4xx", "status_5xx")


def _nobody_listed(model_id: str) -> bool:
    return False


class Gauges:
    """What the process holds, read when the gauges are refreshed (twice a second, and at a scrape)."""

    def __init__(
        self,
        usage_depth: Callable[[], int] = lambda: 0,
        usage_lag: Callable[[], float] = lambda: 0.0,
        usage_failures: Callable[[], int] = lambda: 0,
        leases_open: Callable[[], int] = lambda: 0,
        lease_oldest: Callable[[], float] = lambda: 0.0,
        redis_errors: Callable[[], int] = lambda: 0,
        database_errors: Callable[[], int] = lambda: 0,
    ) -> None:
        self.usage_depth = usage_depth
        self.usage_lag = usage_lag
        self.usage_failures = usage_failures
        self.leases_open = leases_open
        self.lease_oldest = lease_oldest
        self.redis_errors = redis_errors
        self.database_errors = database_errors


class PrometheusTelemetry:
    """The ``model`` label is bounded by `label_models`; until it is called, every model is ``other``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry or CollectorRegistry()
        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        self.on_app_port = True  # False when SLUICE_METRICS_PORT serves the page
        self._model = ModelLabels(_nobody_listed, None, 0)
        self._gauges = Gauges()
        self._seen = {"flush": 0, "redis": 0, "database": 0}  # counts already added to the counters
        self._requests = Counter(
            "sluice_requests",
            "Answered requests by API family, endpoint, model, plan and status",
            ["family", "endpoint", "model", "plan", "status"],
            registry=r,
        )
        self._duration = Histogram(
            "sluice_request_duration_seconds",
            "Time from a request's arrival to its response head",
            ["family", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._overhead = Histogram(
            "sluice_overhead_seconds",
            "Time to the response head not spent waiting on the upstream",
            ["family", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._upstream = Histogram(
            "sluice_upstream_duration_seconds",
            "Upstream calls (failed ones too): time to the answer, or to a stream's head",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._ttft = Histogram(
            "sluice_upstream_ttft_seconds",
            "Streams: time from the upstream call to its first token",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._tokens = Counter("sluice_tokens", "Tokens metered", ["kind", "model", "plan"], registry=r)
        self._cost = Counter("sluice_cost_microusd", "Upstream cost in micro-dollars", ["model", "plan"], registry=r)
        self._credits = Counter(
            "sluice_credits_charged_microusd", "What callers were charged, in micro-dollars", ["plan"], registry=r
        )
        self._limited = Counter("sluice_rate_limited", "Requests refused by a rate policy", ["bucket"], registry=r)
        self._errors = Counter("sluice_upstream_errors", "Upstream failures by kind", ["kind"], registry=r)
        self._backend = Counter("sluice_backend_errors", "Redis and database errors", ["backend"], registry=r)
        self._flush_failures = Counter("sluice_usage_flush_failures", "Failed usage-record writes", registry=r)
        self._in_flight = Gauge(
            "sluice_in_flight_requests", "Requests being answered now", registry=r, multiprocess_mode="livesum"
        )
        self._streams = Gauge(
            "sluice_active_streams", "Streams being relayed now", registry=r, multiprocess_mode="livesum"
        )
        self._buffer = Gauge(
            "sluice_usage_buffer_depth",
            "Usage records waiting for the database",
            registry=r,
            multiprocess_mode="livesum",
        )
        self._lag = Gauge(
            "sluice_usage_flush_lag_seconds",
            "Age of the oldest usage record not yet written",
            registry=r,
            multiprocess_mode="livemax",
        )
        self._leases = Gauge(
            "sluice_credit_leases_open", "Credit leases held by the gateway", registry=r, multiprocess_mode="livesum"
        )
        self._lease_age = Gauge(
            "sluice_credit_lease_oldest_age_seconds",
            "Age of the oldest credit lease held",
            registry=r,
            multiprocess_mode="livemax",
        )
        self._ready = Gauge(
            "sluice_ready", "1 when the last readiness check passed", registry=r, multiprocess_mode="livemin"
        )
        self._children: dict[tuple[str, ...], object] = {}
        # Zero is a value: a rule's ratio, a panel's line exist before the first failure.
        for kind in UPSTREAM_ERROR_KINDS:
            self._child(self._errors, kind)
        for backend in ("redis", "database"):
            self._child(self._backend, backend)

    def watch(self, gauges: Gauges) -> None:
        self._gauges = gauges

    def label_models(self, labels: ModelLabels) -> None:
        self._model = labels

    # A try costs nothing until something raises; each method logs and carries on.

    def request_started(self) -> None:
        try:
            self._in_flight.inc()
        except Exception:
            log.exception("metrics: counting a request in flight failed")

    def request_ended(self) -> None:
        try:
            self._in_flight.dec()
        except Exception:
            log.exception("metrics: counting a request in flight failed")

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

    def report(self, o: Observation) -> None:
        """Everything one finished request tells: its count, times, tokens, cost and refusal."""
        try:
            model = self._model(o.model) if o.model else NONE
            plan = o.plan or NONE
            family, endpoint = o.family, o.endpoint
            self._child(self._requests, family, endpoint, model, plan, str(o.status)).inc()
            self._child(self._duration, family, endpoint).observe(o.head_seconds)
            if o.upstream_began is not None:
                self._child(self._overhead, family, endpoint).observe(o.overhead_seconds)
            if o.limited_bucket is not None:
                self._child(self._limited, o.limited_bucket).inc()
            if o.prompt_tokens > 0:
                self._child(self._tokens, "prompt", model, plan).inc(o.prompt_tokens)
            if o.completion_tokens > 0:
                self._child(self._tokens, "completion", model, plan).inc(o.completion_tokens)
            # Counters only go up: a negative figure (never billed either) is not counted.
            if o.cost_micros > 0:
                self._child(self._cost, model, plan).inc(o.cost_micros)
            if o.charged_micros > 0:
                self._child(self._credits, plan).inc(o.charged_micros)
        except Exception:
            log.exception("metrics: reporting request %s failed", o.request_id)

    def upstream_call(self, endpoint: str, seconds: float) -> None:
        try:
            self._child(self._upstream, endpoint).observe(max(0.0, seconds))
        except Exception:
            log.exception("metrics: timing an upstream call failed (endpoint %s)", endpoint)

    def first_token(self, endpoint: str, seconds: float) -> None:
        try:
            self._child(self._ttft, endpoint).observe(max(0.0, seconds))
        except Exception:
            log.exception("metrics: timing a first token failed (endpoint %s)", endpoint)

    def upstream_error(self, kind: str) -> None:
        try:
            self._child(self._errors, kind).inc()
        except Exception:
            log.exception("metrics: counting an upstream error failed")


    def readiness(self, ready: bool) -> None:
        try:
            self._ready.set(1.0 if ready else 0.0)
        except Exception:
            log.exception("metrics: setting readiness failed")

    def refresh(self) -> None:
        """Reads what the process holds into the gauges."""
        g = self._gauges
        try:
            self._buffer.set(g.usage_depth())
            self._lag.set(g.usage_lag())
            self._leases.set(g.leases_open())
            self._lease_age.set(g.lease_oldest())
            self._add("flush", g.usage_failures(), self._flush_failures)
            self._add("redis", g.redis_errors(), self._child(self._backend, "redis"))
            self._add("database", g.database_errors(), self._child(self._backend, "database"))
        except Exception:
            log.exception("metrics: refreshing the gauges failed")

    def _add(self, name: str, count: int, counter) -> None:  # type: ignore[no-untyped-def]
        """A count kept elsewhere, added to its counter by what grew since the last refresh."""
        seen = self._seen[name]
        if count > seen:
            counter.inc(count - seen)
            self._seen[name] = count

    def exposition(self) -> tuple[bytes, str] | None:
        if not self.on_app_port:
            return None
        return self.page()

    def page(self) -> tuple[bytes, str]:
        self.refresh()
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        return generate_latest(multiprocess_registry()), CONTENT_TYPE_LATEST

    def _child(self, metric, *labels: str):  # type: ignore[no-untyped-def]
        """`metric.labels(...)` without its argument checks: a dict lookup per count on the hot path."""
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child


def multiprocess_registry() -> CollectorRegistry:
    """A registry reading every worker's files (built per scrape, as prometheus_client advises)."""
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def forget_process(pid: int) -> None:
    """A stopped worker's live gauges must not count any more (its counters stay, as they should)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
