"""The metrics Sluice exports, as docs/observability.md gives them: the dashboards and alert rules in
deploy/ may read these and nothing else. A copy of the contract, on purpose: when the gateway
renames a metric or a label, this list and deploy/ must change together, and the e2e test of the
observed gateway (tests/integration/e2e/test_observability.py) proves the gateway exports them.
"""

FAMILIES = ("openai", "gemini", "credits", "web", "ops", "other")
ENDPOINTS = (
    "chat", "embeddings", "images", "moderations", "models", "count_tokens", "stats", "key", "files", "webhook",
    "page", "health", "metrics", "other",
)  # fmt: skip
UPSTREAM_ERROR_KINDS = ("connect", "timeout", "protocol", "disconnected", "stream_broken", "status_4xx", "status_5xx")
TOKEN_KINDS = ("prompt", "completion")
BACKENDS = ("redis", "database")

COUNTERS: dict[str, tuple[str, ...]] = {
    "sluice_requests_total": ("family", "endpoint", "model", "plan", "status"),
    "sluice_tokens_total": ("kind", "model", "plan"),
    "sluice_cost_microusd_total": ("model", "plan"),
    "sluice_credits_charged_microusd_total": ("plan",),
    "sluice_rate_limited_total": ("bucket",),
    "sluice_upstream_errors_total": ("kind",),
    "sluice_usage_flush_failures_total": (),
    "sluice_backend_errors_total": ("backend",),
}
HISTOGRAMS: dict[str, tuple[str, ...]] = {
    "sluice_request_duration_seconds": ("family", "endpoint"),
    "sluice_upstream_duration_seconds": ("endpoint",),
    "sluice_upstream_ttft_seconds": ("endpoint",),
    "sluice_overhead_seconds": ("family", "endpoint"),
}
HISTOGRAM_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
)  # fmt: skip
GAUGES: dict[str, tuple[str, ...]] = {
    "sluice_in_flight_requests": (),
    "sluice_active_streams": (),
    "sluice_usage_buffer_depth": (),
    "sluice_usage_flush_lag_seconds": (),
    "sluice_credit_leases_open": (),
    "sluice_credit_lease_oldest_age_seconds": (),
    "sluice_ready": (),
}
# Prometheus' own series about a scrape; the rules' "is anything scraped at all" reads it.
PROMETHEUS_SERIES: dict[str, tuple[str, ...]] = {"up": ()}
# Labels the scrape adds to every series (the ServiceMonitor's job, namespace, pod, instance...). Not
# "endpoint": the Prometheus Operator's own endpoint label would clash with the gateway's, which is
# why the chart's ServiceMonitor honours the scraped labels.
TARGET_LABELS = ("job", "namespace", "instance", "pod", "service", "container")


def series_labels() -> dict[str, tuple[str, ...]]:
    """Every series name a query may select, with the labels the gateway gives it."""
    names: dict[str, tuple[str, ...]] = {**COUNTERS, **GAUGES, **PROMETHEUS_SERIES}
    for name, labels in HISTOGRAMS.items():
        names[f"{name}_bucket"] = (*labels, "le")
        names[f"{name}_count"] = labels
        names[f"{name}_sum"] = labels
    return names


# The values a query may compare a bounded label with (model, plan, status and bucket are open).
LABEL_VALUES: dict[str, tuple[str, ...]] = {
    "family": FAMILIES,
    "endpoint": ENDPOINTS,
    "backend": BACKENDS,
    # "kind" is shared by two metrics: upstream errors and tokens.
    "kind": UPSTREAM_ERROR_KINDS + TOKEN_KINDS,
    # prometheus_client writes a bucket bound as Go's %g would, with ".0" on whole numbers.
    "le": (*(repr(float(b)) for b in HISTOGRAM_BUCKETS), "+Inf"),
}
