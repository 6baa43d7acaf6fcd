"""The dashboard's figures as its pages show them: charts, table rows, limits in words. No rule lives
here; it only formats what the use cases decided (days are UTC dates, costs what the viewer paid)."""

from datetime import datetime
from typing import Any

from application.use_cases.limit_state import BucketState, CapState, LimitState
from application.use_cases.usage_dashboard import UsageReport
from domain.credits import usd_text
from domain.plans import interval_label
from domain.usage import Outcome, UsageRecord, UsageTotals
from interfaces.web.charts import Chart, Series, bar_chart

TOP_MODELS = 6  # the charts stack this many models, and the rest as one


def count(value: int) -> str:
    return f"{value:,}"


def utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float) -> str:
    """A short, rounded-up span: 45 s, 12 min, 3 h 5 min."""
    whole = max(0, int(-(-seconds // 1)))
    if whole < 60:
        return f"{whole} s"
    minutes = -(-whole // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def totals_row(totals: UsageTotals) -> dict[str, str]:
    return {
        "requests": count(totals.requests),
        "prompt_tokens": count(totals.prompt_tokens),
        "completion_tokens": count(totals.completion_tokens),
        "tokens": count(totals.total_tokens),
        "cost": usd_text(totals.charged_micros),
    }


def bucket_row(bucket: BucketState) -> dict[str, Any]:
    policy, state = bucket.policy, bucket.state
    if bucket.key is not None:
        counted = f"key “{bucket.key.name}” ({bucket.key.prefix}…)"
    elif bucket.ip is not None:
        counted = f"your address {bucket.ip}"
    else:
        counted = "your account"
    if state.reset_after <= 0:
        reset = "full now"
    else:
        reset = f"full in {duration(state.reset_after)} ({bucket.reset_at.strftime('%H:%M:%S UTC')})"
    return {
        "name": policy.name,
        # which endpoints the bucket counts, where its name does not say it already
        "endpoints": "" if policy.endpoints == {policy.name} else ", ".join(sorted(policy.endpoints)),
        "counted": counted,
        "limit": f"{policy.limit:,} per {interval_label(policy.window_seconds)}",
        "remaining": count(state.remaining),
        "reset": reset,
        "allowed": state.allowed,
        "next": "now" if state.allowed else f"in {duration(state.retry_after)}",
    }


def cap_row(cap: CapState) -> dict[str, Any]:
    return {
        "period": cap.cap.period.adjective,
        "limit": usd_text(cap.cap.limit_micros),
        "spent": usd_text(cap.spent_micros),
        "remaining": usd_text(cap.remaining_micros),
        "reached": cap.remaining_micros == 0,
        "resets": utc(cap.resets_at),
    }


def limits_view(limits: LimitState) -> dict[str, Any]:
    return {
        "plan": limits.plan,
        "buckets": [bucket_row(b) for b in limits.buckets],
        "caps": [cap_row(c) for c in limits.caps],
    }


def record_row(record: UsageRecord, key_names: dict[str, str]) -> dict[str, Any]:
    status = str(record.http_status)
    if record.outcome is not Outcome.OK:
        status += f" ({record.outcome.value.replace('_', ' ')})"
    return {
        "time": utc(record.created_at),
        "key": key_names.get(record.key_id, record.key_id),
        "endpoint": record.endpoint,
        "model": record.model,
        "status": status,
        "ok": record.outcome is Outcome.OK and record.http_status < 400,
        "tokens": f"{record.prompt_tokens:,} + {record.completion_tokens:,}",
        "cost": usd_text(record.charged_micros),
        "latency": f"{record.latency_ms:,} ms",
        "streamed": record.streamed,
    }


def _stacked_by_model(report: UsageReport, field: str) -> list[Series]:
    shown = report.models[:TOP_MODELS]
    series = [
        Series(model, [getattr(report.cells.get((day, model), UsageTotals()), field) for day in report.days])
        for model in shown
    ]
    rest = report.models[TOP_MODELS:]
    if rest:
        values = [
            sum(getattr(report.cells.get((day, model), UsageTotals()), field) for model in rest) for day in report.days
        ]
        series.append(Series(f"{len(rest)} other models", values))
    return series or [Series("all models", [0] * len(report.days))]


def usage_charts(report: UsageReport) -> dict[str, list[Chart]]:
    days = [day.isoformat() for day in report.days]
    every = 1 if len(days) <= 10 else 7
    span = f"{days[0]} to {days[-1]}" if len(days) > 1 else days[0]
    per_day = [
        bar_chart(
            "Requests per day",
            f"Requests per UTC day from {span}, stacked by model; {count(report.total.requests)} in all.",
            days,
            _stacked_by_model(report, "requests"),
            label_every=every,
        ),
        bar_chart(
            "Tokens per day",
            f"Prompt and completion tokens per UTC day from {span}; {count(report.total.total_tokens)} in all.",
            days,
            [
                Series("prompt tokens", [t.prompt_tokens for t in report.per_day]),
                Series("completion tokens", [t.completion_tokens for t in report.per_day]),
            ],
            label_every=every,
        ),
        bar_chart(
            "Cost per day",
            f"What you were charged per UTC day from {span}, stacked by model; "
            f"{usd_text(report.total.charged_micros)} in all.",
            days,
            _stacked_by_model(report, "charged_micros"),
            format=usd_text,
            label_every=every,
        ),
    ]
    models = report.models or []
    per_model = [
        bar_chart(
            "Requests per model",
            f"Requests per model from {span}, most requested first.",
            models,
            [Series("requests", [t.requests for t in report.per_model])],
            horizontal=True,
        ),
        bar_chart(
            "Tokens per model",
            f"Prompt and completion tokens per model from {span}.",
            models,
            [
                Series("prompt tokens", [t.prompt_tokens for t in report.per_model]),
                Series("completion tokens", [t.completion_tokens for t in report.per_model]),
            ],
            horizontal=True,
        ),
        bar_chart(
            "Cost per model",
            f"What you were charged per model from {span}.",
            models,
            [Series("cost", [t.charged_micros for t in report.per_model])],
            format=usd_text,
            horizontal=True,
        ),
    ]
    return {"per_day": per_day, "per_model": per_model}
