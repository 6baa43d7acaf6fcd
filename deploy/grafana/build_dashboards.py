"""Writes Sluice's five Grafana dashboards, and the chart's copies of them and of the alert rules.

    python deploy/grafana/build_dashboards.py          # rewrite deploy/grafana/*.json and the chart's files/
    python deploy/grafana/build_dashboards.py --check  # exit 1 if any of them is not what this script writes

One script for all five, so that they share the variables (data source, namespace, job,
instance), the selector every query carries, the links between them and the layout. The queries
read only the metrics of docs/observability.md (tests/integration/deploy/ checks that). The Helm
chart cannot read files outside its directory, so the dashboards and deploy/prometheus/sluice-rules.yaml
are copied into deploy/helm/sluice/files/; the deploy tests fail when a copy is stale.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEPLOY = Path(__file__).resolve().parents[1]
CHART_FILES = DEPLOY / "helm" / "sluice" / "files"
RULES = DEPLOY / "prometheus" / "sluice-rules.yaml"

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job=~"$job", namespace=~"$namespace", instance=~"$instance"'
API = 'family=~"openai|gemini|credits"'  # the metered API families: not the web pages, probes or scrapes
RATE = "$__rate_interval"
S5XX = 'status=~"5.."'
S4XX = 'status=~"4.."'
S429 = 'status="429"'
S402 = 'status="402"'
NOT_4XX = 'kind!="status_4xx"'
UNDER_1MS = 'le="0.001"'  # prometheus_client writes the bucket bound as Go does: 0.001
COMPLETION = 'kind="completion"'

# The alert rules' thresholds, drawn on the panels that show the same series.
OVERHEAD_P99_ALERT = 0.05  # SluiceOverheadP99High
FLUSH_LAG_ALERT = 60  # SluiceUsageFlushLagging
LEASE_AGE_ALERT = 900  # SluiceCreditLeaseHeldTooLong


def sel(*extra: str) -> str:
    return "{" + ", ".join([SEL, *extra]) + "}"


def rate(metric: str, *extra: str, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}{sel(*extra)}[{RATE}]))"


def quantile(q: float, histogram: str, *extra: str, by: str = "") -> str:
    labels = f"{by}, le" if by else "le"
    return f"histogram_quantile({q}, sum by ({labels}) (rate({histogram}_bucket{sel(*extra)}[{RATE}])))"


@dataclass
class Target:
    expr: str
    legend: str = ""
    instant: bool = False
    format: str = "time_series"


@dataclass
class Panel:
    title: str
    description: str
    targets: list[Target]
    kind: str = "timeseries"
    unit: str = "short"
    width: int = 12
    height: int = 8
    thresholds: list[tuple[float, str]] = field(default_factory=list)  # (from value, colour) above green
    stack: bool = False
    decimals: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # a table's value columns renamed


def row(title: str) -> Panel:
    return Panel(title, "", [], kind="row", width=24, height=1)


def stat(title: str, description: str, expr: str, unit: str = "short", width: int = 4, **kw: Any) -> Panel:
    return Panel(title, description, [Target(expr, instant=True)], kind="stat", unit=unit, width=width, height=4, **kw)


def series(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    return Panel(title, description, list(targets), **kw)


def _field_config(panel: Panel) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": colour, "value": value} for value, colour in panel.thresholds]
    defaults: dict[str, Any] = {
        "unit": panel.unit,
        "color": {"mode": "thresholds" if panel.kind == "stat" else "palette-classic"},
        "thresholds": {"mode": "absolute", "steps": steps},
    }
    if panel.decimals is not None:
        defaults["decimals"] = panel.decimals
    if panel.kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 20 if panel.stack else 10,
            "showPoints": "never",
            "spanNulls": False,
            "stacking": {"mode": "normal" if panel.stack else "none", "group": "A"},
            # An alert's threshold drawn as a dashed line, not as coloured areas.
            "thresholdsStyle": {"mode": "dashed" if panel.thresholds else "off"},
        }
    return {"defaults": defaults, "overrides": []}


def _options(panel: Panel) -> dict[str, Any]:
    if panel.kind == "stat":
        return {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
        }
    if panel.kind == "timeseries":
        return {
            "legend": {"displayMode": "table", "placement": "right", "calcs": ["mean", "max"], "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    if panel.kind == "heatmap":
        return {
            "calculate": False,
            "yAxis": {"unit": panel.unit},
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
            "tooltip": {"show": True, "yHistogram": True},
            "legend": {"show": True},
        }
    if panel.kind == "table":
        return {"showHeader": True, "cellHeight": "sm", "footer": {"show": False, "reducer": ["sum"]}}
    return {}


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
    }
    if panel.kind == "row":
        out.update(collapsed=False, panels=[])
        return out
    out["description"] = panel.description
    out["datasource"] = DATASOURCE
    out["targets"] = [
        {
            "refId": chr(ord("A") + i),
            "datasource": DATASOURCE,
            "expr": t.expr,
            "legendFormat": t.legend or "__auto",
            "range": not t.instant,
            "instant": t.instant,
            "format": t.format,
            "editorMode": "code",
        }
        for i, t in enumerate(panel.targets)
    ]
    out["fieldConfig"] = _field_config(panel)
    out["options"] = {**_options(panel), **panel.options}
    if panel.kind == "table":
        # One row per series; the time and the metric name columns add nothing.
        out["transformations"] = [
            {"id": "merge", "options": {}},
            {
                "id": "organize",
                "options": {"excludeByName": {"Time": True, "__name__": True}, "renameByName": panel.columns},
            },
        ]
    return out


def _layout(panels: list[Panel]) -> list[dict[str, Any]]:
    """Left to right, then down; a row panel starts a new line."""
    out, x, y, line_height = [], 0, 0, 0
    for panel_id, panel in enumerate(panels, start=1):
        if panel.kind == "row" or x + panel.width > 24:
            x, y, line_height = 0, y + line_height, 0
        out.append(_panel_json(panel, panel_id, x, y))
        x += panel.width
        line_height = max(line_height, panel.height)
        if panel.kind == "row":
            x, y, line_height = 0, y + panel.height, 0
    return out


def _variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": query,
        "definition": query,
        "refresh": 2,  # on time range change: a new pod's instance appears
        "sort": 1,
        "multi": True,
        "includeAll": True,
        # ".*" also matches an absent label (a Prometheus without namespace labels).
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "regex": "",
        "hide": 0,
        "skipUrlSync": False,
    }


def _templating() -> dict[str, Any]:
    return {
        "list": [
            {
                "name": "datasource",
                "label": "Data source",
                "type": "datasource",
                "query": "prometheus",
                "current": {},
                "options": [],
                "refresh": 1,
                "regex": "",
                "hide": 0,
                "multi": False,
                "includeAll": False,
                "skipUrlSync": False,
            },
            _variable("job", "Job", "label_values(sluice_ready, job)"),
            _variable("namespace", "Namespace", 'label_values(sluice_ready{job=~"$job"}, namespace)'),
            _variable(
                "instance", "Instance", 'label_values(sluice_ready{job=~"$job", namespace=~"$namespace"}, instance)'
            ),
        ]
    }


def dashboard(uid: str, title: str, description: str, panels: list[Panel]) -> dict[str, Any]:
    return {
        "id": None,  # Grafana gives its own on import; the uid is what identifies the dashboard
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["sluice"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,  # a shared crosshair across the panels
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "links": [
            {
                "title": "Sluice",
                "type": "dashboards",
                "tags": ["sluice"],
                "asDropdown": True,
                "includeVars": True,
                "keepTime": True,
                "icon": "external link",
                "targetBlank": False,
                "tooltip": "",
                "url": "",
            }
        ],
        "templating": _templating(),
        "panels": _layout(panels),
    }


def traffic() -> dict[str, Any]:
    api = rate("sluice_requests_total", API)
    return dashboard(
        "sluice-traffic",
        "Sluice / Traffic and errors",
        "Requests by family, endpoint, model, plan and status; 5xx and refusals; upstream errors; readiness.",
        [
            stat("API requests/s", "Metered API requests (OpenAI, Gemini, credits families).", api, "reqps"),
            stat(
                "5xx ratio",
                "Share of API requests answered 5xx. SluiceHigh5xxRatio fires above 5% (it counts the web pages too).",
                f"{rate('sluice_requests_total', API, S5XX)} / {api}",
                "percentunit",
                thresholds=[(0.01, "orange"), (0.05, "red")],
            ),
            stat(
                "4xx ratio",
                "Share of API requests answered 4xx (keys, credits, limits, bad bodies).",
                f"{rate('sluice_requests_total', API, S4XX)} / {api}",
                "percentunit",
                thresholds=[(0.2, "orange")],
            ),
            stat(
                "In flight",
                "Requests being answered now, over the selected instances.",
                f"sum(sluice_in_flight_requests{sel()})",
            ),
            stat("Active streams", "Streams being relayed now.", f"sum(sluice_active_streams{sel()})"),
            stat(
                "Instances not ready",
                "Instances whose last readiness check failed, or draining. SluiceNotReady fires after 5 minutes.",
                f"count(sluice_ready{sel()} == 0) or vector(0)",
                thresholds=[(1, "red")],
                decimals=0,
            ),
            row("Traffic"),
            series(
                "Requests/s by family",
                "Every answered request; ops is probes and scrapes, web the dashboard's pages.",
                Target(rate("sluice_requests_total", by="family"), "{{family}}"),
                unit="reqps",
                stack=True,
            ),
            series(
                "API requests/s by endpoint",
                "Metered API requests by endpoint.",
                Target(rate("sluice_requests_total", API, by="endpoint"), "{{endpoint}}"),
                unit="reqps",
                stack=True,
            ),
            series(
                "API requests/s by model (top 10)",
                "By served model; models outside the catalogue or past SLUICE_METRICS_MAX_MODELS are 'other'.",
                Target(f"topk(10, {rate('sluice_requests_total', API, by='model')})", "{{model}}"),
                unit="reqps",
            ),
            series(
                "API requests/s by plan",
                "By the caller's plan; 'none' before authentication.",
                Target(rate("sluice_requests_total", API, by="plan"), "{{plan}}"),
                unit="reqps",
                stack=True,
            ),
            row("Errors"),
            series(
                "API responses/s by status",
                "Every status, the exception handlers' 401/402/403/429/503 included.",
                Target(rate("sluice_requests_total", API, by="status"), "{{status}}"),
                unit="reqps",
                stack=True,
            ),
            series(
                "5xx ratio by endpoint",
                "Share of each endpoint's requests answered 5xx. Most are upstream failures passed on as 502/503/504.",
                Target(
                    f"{rate('sluice_requests_total', API, S5XX, by='endpoint')}"
                    f" / {rate('sluice_requests_total', API, by='endpoint')}",
                    "{{endpoint}}",
                ),
                unit="percentunit",
                thresholds=[(0.05, "red")],
            ),
            series(
                "Refusals/s (401, 402, 403, 429)",
                "401 key, 402 credits or spend cap, 403 banned or model not on the plan, 429 rate limited.",
                Target(rate("sluice_requests_total", API, 'status=~"401|402|403|429"', by="status"), "{{status}}"),
                unit="reqps",
                stack=True,
            ),
            series(
                "Upstream errors/s by kind",
                "Failed upstream calls: connect, timeout, protocol, disconnected, stream_broken, status_4xx, "
                "status_5xx.",
                Target(rate("sluice_upstream_errors_total", by="kind"), "{{kind}}"),
                unit="reqps",
                stack=True,
            ),
            row("Capacity"),
            series(
                "In flight and streams by instance",
                "Requests being answered and streams being relayed, per instance.",
                Target(f"sum by (instance) (sluice_in_flight_requests{sel()})", "in flight {{instance}}"),
                Target(f"sum by (instance) (sluice_active_streams{sel()})", "streams {{instance}}"),
            ),
            series(
                "Readiness by instance",
                "1 ready, 0 not ready (database, Redis or catalogue unreachable, or draining after SIGTERM). "
                "SluiceNotReady fires after 5 minutes at 0.",
                Target(f"min by (instance) (sluice_ready{sel()})", "{{instance}}"),
                options={"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}},
                decimals=0,
            ),
        ],
    )


def latency() -> dict[str, Any]:
    return dashboard(
        "sluice-latency",
        "Sluice / Latency and overhead",
        "Time to the response head, the gateway's own overhead, upstream latency and time to first token.",
        [
            stat(
                "Overhead p50",
                "Gateway time outside the upstream, median, metered API requests.",
                quantile(0.5, "sluice_overhead_seconds", API),
                "s",
            ),
            stat(
                "Overhead p99",
                "SluiceOverheadP99High fires above 50 ms.",
                quantile(0.99, "sluice_overhead_seconds", API),
                "s",
                thresholds=[(0.01, "orange"), (OVERHEAD_P99_ALERT, "red")],
            ),
            stat(
                "Overhead under 1 ms",
                "Share of API requests whose overhead was under a millisecond.",
                f"sum(rate(sluice_overhead_seconds_bucket{sel(API, UNDER_1MS)}[{RATE}]))"
                f" / sum(rate(sluice_overhead_seconds_count{sel(API)}[{RATE}]))",
                "percentunit",
            ),
            stat(
                "Head p99",
                "Arrival to response head (a stream's first byte), API requests.",
                quantile(0.99, "sluice_request_duration_seconds", API),
                "s",
            ),
            stat(
                "Upstream p99",
                "Upstream calls, failed ones included.",
                quantile(0.99, "sluice_upstream_duration_seconds"),
                "s",
            ),
            stat(
                "TTFT p50",
                "Streams: upstream call to the first token.",
                quantile(0.5, "sluice_upstream_ttft_seconds"),
                "s",
            ),
            row("Gateway overhead"),
            series(
                "Overhead p50 / p90 / p99",
                "Time to the response head not spent waiting on the upstream (requests that called it). "
                "The dashed line is the alert's 50 ms.",
                Target(quantile(0.5, "sluice_overhead_seconds", API), "p50"),
                Target(quantile(0.9, "sluice_overhead_seconds", API), "p90"),
                Target(quantile(0.99, "sluice_overhead_seconds", API), "p99"),
                unit="s",
                thresholds=[(OVERHEAD_P99_ALERT, "red")],
            ),
            series(
                "Overhead p99 by endpoint",
                "Per endpoint: an image request's overhead includes its parallel calls' bookkeeping.",
                Target(quantile(0.99, "sluice_overhead_seconds", API, by="endpoint"), "{{endpoint}}"),
                unit="s",
            ),
            Panel(
                "Overhead distribution",
                "Requests per overhead bucket (100 us to 120 s).",
                [
                    Target(
                        f"sum by (le) (increase(sluice_overhead_seconds_bucket{sel(API)}[{RATE}]))",
                        "{{le}}",
                        format="heatmap",
                    )
                ],
                kind="heatmap",
                unit="s",
                width=24,
            ),
            row("Response head"),
            series(
                "Head p50 / p90 / p99",
                "Arrival to response head; for a stream, to its first byte.",
                Target(quantile(0.5, "sluice_request_duration_seconds", API), "p50"),
                Target(quantile(0.9, "sluice_request_duration_seconds", API), "p90"),
                Target(quantile(0.99, "sluice_request_duration_seconds", API), "p99"),
                unit="s",
            ),
            series(
                "Head p99 by family and endpoint",
                "All families, the web pages and probes included.",
                Target(
                    quantile(0.99, "sluice_request_duration_seconds", by="family, endpoint"), "{{family}} {{endpoint}}"
                ),
                unit="s",
            ),
            row("Upstream"),
            series(
                "Upstream latency p50 / p99 by endpoint",
                "Every upstream call, failed ones too: to the answer, or to a stream's head.",
                Target(quantile(0.5, "sluice_upstream_duration_seconds", by="endpoint"), "p50 {{endpoint}}"),
                Target(quantile(0.99, "sluice_upstream_duration_seconds", by="endpoint"), "p99 {{endpoint}}"),
                unit="s",
            ),
            series(
                "Time to first token p50 / p99",
                "Streams: from the upstream call to the first frame carrying output.",
                Target(quantile(0.5, "sluice_upstream_ttft_seconds", by="endpoint"), "p50 {{endpoint}}"),
                Target(quantile(0.99, "sluice_upstream_ttft_seconds", by="endpoint"), "p99 {{endpoint}}"),
                unit="s",
            ),
            series(
                "Upstream calls/s by endpoint",
                "An image request makes one call per image.",
                Target(
                    f"sum by (endpoint) (rate(sluice_upstream_duration_seconds_count{sel()}[{RATE}]))", "{{endpoint}}"
                ),
                unit="reqps",
                stack=True,
            ),
            series(
                "Upstream error ratio",
                "Failed upstream calls (4xx excluded) over all calls. "
                "SluiceUpstreamErrors fires above 5%, SluiceUpstreamDown at 95%.",
                Target(
                    f"{rate('sluice_upstream_errors_total', NOT_4XX)}"
                    f" / sum(rate(sluice_upstream_duration_seconds_count{sel()}[{RATE}]))",
                    "errors",
                ),
                unit="percentunit",
                thresholds=[(0.05, "red")],
            ),
        ],
    )


def _usd_per_hour(metric: str, *extra: str, by: str = "") -> str:
    return f"{rate(metric, *extra, by=by)} * 3600 / 1e6"


def tokens() -> dict[str, Any]:
    return dashboard(
        "sluice-tokens",
        "Sluice / Tokens and cost",
        "Tokens, upstream cost and credits charged, by model and plan.",
        [
            stat("Tokens/s", "Prompt and completion tokens of settled requests.", rate("sluice_tokens_total")),
            stat(
                "Upstream cost, $/h",
                "What the upstream charges, at the current rate.",
                _usd_per_hour("sluice_cost_microusd_total"),
                "currencyUSD",
                decimals=2,
            ),
            stat(
                "Charged, $/h",
                "What accounts are charged, at the current rate.",
                _usd_per_hour("sluice_credits_charged_microusd_total"),
                "currencyUSD",
                decimals=2,
            ),
            stat(
                "Cost in range",
                "Upstream cost over the dashboard's time range.",
                f"sum(increase(sluice_cost_microusd_total{sel()}[$__range])) / 1e6",
                "currencyUSD",
                decimals=2,
            ),
            stat(
                "Charged in range",
                "Charged to accounts over the dashboard's time range.",
                f"sum(increase(sluice_credits_charged_microusd_total{sel()}[$__range])) / 1e6",
                "currencyUSD",
                decimals=2,
            ),
            stat(
                "Completion share",
                "Completion tokens over all tokens.",
                f"{rate('sluice_tokens_total', COMPLETION)} / {rate('sluice_tokens_total')}",
                "percentunit",
            ),
            row("Tokens"),
            series(
                "Tokens/s by kind",
                "Prompt and completion.",
                Target(rate("sluice_tokens_total", by="kind"), "{{kind}}"),
                stack=True,
            ),
            series(
                "Tokens/s by model (top 10)",
                "Both kinds; models outside the catalogue are 'other'.",
                Target(f"topk(10, {rate('sluice_tokens_total', by='model')})", "{{model}}"),
                stack=True,
            ),
            series(
                "Tokens/s by plan",
                "Both kinds.",
                Target(rate("sluice_tokens_total", by="plan"), "{{plan}}"),
                stack=True,
            ),
            series(
                "Prompt and completion by model (top 10)",
                "Each model's tokens/s by kind.",
                Target(f"topk(10, {rate('sluice_tokens_total', by='model, kind')})", "{{model}} {{kind}}"),
            ),
            row("Cost"),
            series(
                "Upstream cost by model, $/h (top 10)",
                "The upstream's cost at the current rate.",
                Target(f"topk(10, {_usd_per_hour('sluice_cost_microusd_total', by='model')})", "{{model}}"),
                unit="currencyUSD",
                stack=True,
            ),
            series(
                "Upstream cost and charged by plan, $/h",
                "Cost is what the upstream bills; charged what the plan's pricing took from accounts.",
                Target(_usd_per_hour("sluice_cost_microusd_total", by="plan"), "cost {{plan}}"),
                Target(_usd_per_hour("sluice_credits_charged_microusd_total", by="plan"), "charged {{plan}}"),
                unit="currencyUSD",
            ),
            Panel(
                "Cost and tokens by model and plan, in range",
                "Totals over the dashboard's time range.",
                [
                    Target(
                        f"sum by (model, plan) (increase(sluice_cost_microusd_total{sel()}[$__range])) / 1e6",
                        "cost",
                        instant=True,
                        format="table",
                    ),
                    Target(
                        f"sum by (model, plan) (increase(sluice_tokens_total{sel()}[$__range]))",
                        "tokens",
                        instant=True,
                        format="table",
                    ),
                ],
                kind="table",
                width=24,
                height=10,
                columns={"Value #A": "cost (USD)", "Value #B": "tokens"},
            ),
        ],
    )


def rate_limits() -> dict[str, Any]:
    api = rate("sluice_requests_total", API)
    limited = rate("sluice_requests_total", API, 'status="429"')
    return dashboard(
        "sluice-rate-limits",
        "Sluice / Rate limiting",
        "Requests refused by a plan's rate limits (429), by bucket, plan and endpoint; "
        "credit and spend-cap refusals (402).",
        [
            stat(
                "Rate-limited/s",
                "Requests refused by a rate policy, every bucket.",
                rate("sluice_rate_limited_total"),
                "reqps",
                width=6,
            ),
            stat(
                "429 share",
                "Share of API requests answered 429.",
                f"{limited} / {api}",
                "percentunit",
                thresholds=[(0.05, "orange"), (0.2, "red")],
                width=6,
            ),
            stat(
                "402/s",
                "Refused for credits or a spend cap.",
                rate("sluice_requests_total", API, 'status="402"'),
                "reqps",
                width=6,
            ),
            stat(
                "Limited in range",
                "Refusals by a rate policy over the dashboard's time range.",
                f"sum(increase(sluice_rate_limited_total{sel()}[$__range]))",
                width=6,
                decimals=0,
            ),
            row("Rate limits"),
            series(
                "Rate-limited/s by bucket",
                "The plan's limit that refused the request (requests, tokens, images, moderations, ...).",
                Target(rate("sluice_rate_limited_total", by="bucket"), "{{bucket}}"),
                unit="reqps",
                stack=True,
            ),
            series(
                "429/s by plan",
                "Rate-limited API responses by the caller's plan.",
                Target(rate("sluice_requests_total", API, 'status="429"', by="plan"), "{{plan}}"),
                unit="reqps",
                stack=True,
            ),
            series(
                "429 share by plan",
                "Share of each plan's API requests answered 429: a plan whose users keep hitting it may be too tight.",
                Target(
                    f"{rate('sluice_requests_total', API, S429, by='plan')}"
                    f" / {rate('sluice_requests_total', API, by='plan')}",
                    "{{plan}}",
                ),
                unit="percentunit",
            ),
            series(
                "429/s by endpoint",
                "Rate-limited API responses by endpoint.",
                Target(rate("sluice_requests_total", API, 'status="429"', by="endpoint"), "{{endpoint}}"),
                unit="reqps",
                stack=True,
            ),
            row("Credits and spend caps"),
            series(
                "402/s by plan",
                "Refused for an empty prepaid balance or a reached spend cap.",
                Target(rate("sluice_requests_total", API, 'status="402"', by="plan"), "{{plan}}"),
                unit="reqps",
                stack=True,
            ),
            Panel(
                "Rate-limited by bucket, in range",
                "Totals over the dashboard's time range.",
                [
                    Target(
                        f"sort_desc(sum by (bucket) (increase(sluice_rate_limited_total{sel()}[$__range])))",
                        "{{bucket}}",
                        instant=True,
                        format="table",
                    )
                ],
                kind="table",
                columns={"Value #A": "rate-limited"},
            ),
        ],
    )


def ledger() -> dict[str, Any]:
    return dashboard(
        "sluice-ledger",
        "Sluice / Ledger and leases",
        "Usage records waiting for the database, flush lag and failures, credit leases, Redis and database errors.",
        [
            stat(
                "Usage buffer",
                "Usage records waiting for the database, all selected instances.",
                f"sum(sluice_usage_buffer_depth{sel()})",
            ),
            stat(
                "Flush lag",
                "Age of the oldest unwritten usage record. SluiceUsageFlushLagging fires above 60 s.",
                f"max(sluice_usage_flush_lag_seconds{sel()})",
                "s",
                thresholds=[(10, "orange"), (FLUSH_LAG_ALERT, "red")],
            ),
            stat(
                "Flush failures in range",
                "Failed usage-record batch writes (retried; nothing is dropped while the pod lives).",
                f"sum(increase(sluice_usage_flush_failures_total{sel()}[$__range]))",
                thresholds=[(1, "red")],
                decimals=0,
            ),
            stat("Open leases", "Credit leases the gateway holds.", f"sum(sluice_credit_leases_open{sel()})"),
            stat(
                "Oldest lease",
                "Age of the oldest credit lease held. SluiceCreditLeaseHeldTooLong fires above 900 s.",
                f"max(sluice_credit_lease_oldest_age_seconds{sel()})",
                "s",
                thresholds=[(300, "orange"), (LEASE_AGE_ALERT, "red")],
            ),
            stat(
                "Backend errors in range",
                "Failures to reach Redis or the database.",
                f"sum(increase(sluice_backend_errors_total{sel()}[$__range]))",
                thresholds=[(1, "orange")],
                decimals=0,
            ),
            row("Usage records"),
            series(
                "Usage buffer by instance",
                "Records waiting in each pod's memory: lost if the pod is killed before they are written.",
                Target(f"sum by (instance) (sluice_usage_buffer_depth{sel()})", "{{instance}}"),
            ),
            series(
                "Flush lag by instance",
                "Age of the oldest unwritten record; a healthy gateway stays under a second. "
                "The dashed line is the alert's 60 s.",
                Target(f"max by (instance) (sluice_usage_flush_lag_seconds{sel()})", "{{instance}}"),
                unit="s",
                thresholds=[(FLUSH_LAG_ALERT, "red")],
            ),
            series(
                "Flush failures/s by instance",
                "Failed batch writes; the batch is retried.",
                Target(f"sum by (instance) (rate(sluice_usage_flush_failures_total{sel()}[{RATE}]))", "{{instance}}"),
                unit="reqps",
            ),
            series(
                "Backend errors/s",
                "Failures to reach Redis or the database, from requests and background work. "
                "SluiceBackendErrors fires when they persist.",
                Target(rate("sluice_backend_errors_total", by="backend"), "{{backend}}"),
                unit="reqps",
            ),
            row("Credit leases"),
            series(
                "Open credit leases by instance",
                "Credits held for requests in flight (prepaid plans).",
                Target(f"sum by (instance) (sluice_credit_leases_open{sel()})", "{{instance}}"),
            ),
            series(
                "Oldest lease age by instance",
                "A lease lives as long as its request or stream. The dashed line is the alert's 900 s.",
                Target(f"max by (instance) (sluice_credit_lease_oldest_age_seconds{sel()})", "{{instance}}"),
                unit="s",
                thresholds=[(LEASE_AGE_ALERT, "red")],
            ),
            series(
                "Charged/h by plan",
                "Credits taken from accounts, $/h at the current rate.",
                Target(_usd_per_hour("sluice_credits_charged_microusd_total", by="plan"), "{{plan}}"),
                unit="currencyUSD",
                stack=True,
            ),
            series(
                "402/s by plan",
                "Requests refused for credits or a spend cap.",
                Target(rate("sluice_requests_total", API, 'status="402"', by="plan"), "{{plan}}"),
                unit="reqps",
            ),
        ],
    )


DASHBOARDS = {
    "sluice-traffic.json": traffic,
    "sluice-latency.json": latency,
    "sluice-tokens.json": tokens,
    "sluice-rate-limits.json": rate_limits,
    "sluice-ledger.json": ledger,
}


def wanted() -> dict[Path, str]:
    """Every file this script owns, with its content."""
    files: dict[Path, str] = {}
    for name, build in DASHBOARDS.items():
        text = json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
        files[DEPLOY / "grafana" / name] = text
        files[CHART_FILES / "dashboards" / name] = text
    files[CHART_FILES / "sluice-rules.yaml"] = RULES.read_text()
    return files


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = [path for path, text in wanted().items() if not path.is_file() or path.read_text() != text]
    if check:
        for path in stale:
            print(f"stale: {path.relative_to(DEPLOY.parent)} (run python deploy/grafana/build_dashboards.py)")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted()[path])
        print(f"wrote {path.relative_to(DEPLOY.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
