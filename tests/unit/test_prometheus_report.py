"""The metrics of one finished request, and that no odd figure makes a metric raise or go down."""

import pytest

from application.observation import Observation
from infrastructure.telemetry.model_labels import ModelLabels
from infrastructure.telemetry.prometheus import Gauges, PrometheusTelemetry


def _telemetry() -> PrometheusTelemetry:
    telemetry = PrometheusTelemetry()
    telemetry.label_models(ModelLabels({"openai/gpt-4o-mini"}.__contains__, None, 10))
    return telemetry


def _settled(**figures: int) -> Observation:
    o = Observation("openai", "chat", "req_1")
    o.model, o.plan, o.account_id = "openai/gpt-4o-mini", "pro", "acct_1"
    o.started, o.upstream_began, o.upstream_ended, o.head_at = 1.0, 1.001, 1.201, 1.2015
    o.admitted()
    o.settled(outcome="ok", **figures)
    o.head_sent(200)
    o.head_at = 1.2015
    return o


def test_a_request_counts_once_with_its_tokens_cost_and_charge() -> None:
    telemetry = _telemetry()
    telemetry.report(_settled(prompt_tokens=12, completion_tokens=5, cost_micros=300, charged_micros=360))
    page = telemetry.page()[0].decode()
    labels = 'endpoint="chat",family="openai",model="openai/gpt-4o-mini",plan="pro",status="200"'
    assert f"sluice_requests_total{{{labels}}} 1.0" in page
    assert 'sluice_tokens_total{kind="prompt",model="openai/gpt-4o-mini",plan="pro"} 12.0' in page
    assert 'sluice_tokens_total{kind="completion",model="openai/gpt-4o-mini",plan="pro"} 5.0' in page
    assert 'sluice_cost_microusd_total{model="openai/gpt-4o-mini",plan="pro"} 300.0' in page
    assert 'sluice_credits_charged_microusd_total{plan="pro"} 360.0' in page
    # 1.5 ms of overhead lands in the 2.5 ms bucket and not the 1 ms one.
    assert 'sluice_overhead_seconds_bucket{endpoint="chat",family="openai",le="0.001"} 0.0' in page
    assert 'sluice_overhead_seconds_bucket{endpoint="chat",family="openai",le="0.0025"} 1.0' in page


def test_negative_figures_are_not_counted() -> None:
    telemetry = _telemetry()
    telemetry.report(_settled(prompt_tokens=-7, completion_tokens=-1, cost_micros=-5, charged_micros=-1))
    page = telemetry.page()[0].decode()
    assert "sluice_cost_microusd_total{" not in page
    assert 'sluice_tokens_total{kind="prompt"' not in page
    assert "sluice_requests_total{" in page


def test_a_broken_label_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def broken(model: str) -> str:
        raise RuntimeError(model)

    telemetry = PrometheusTelemetry()
    telemetry.label_models(broken)  # type: ignore[arg-type]
    telemetry.report(_settled(prompt_tokens=1, completion_tokens=1, cost_micros=1, charged_micros=1))
    assert "metrics: reporting request req_1 failed" in caplog.text


def test_no_method_raises_on_odd_input() -> None:
    telemetry = _telemetry()
    telemetry.upstream_call("chat", -5.0)
    telemetry.upstream_call("chat", float("nan"))
    telemetry.first_token("chat", -1.0)
    telemetry.upstream_error(None)  # type: ignore[arg-type]
    telemetry.stream_closed()
    telemetry.stream_opened()
    telemetry.readiness(True)
    assert telemetry.page()[0]


def test_the_gauges_and_counted_failures_are_read_at_refresh() -> None:
    telemetry = _telemetry()
    counts = {"flush": 2, "redis": 1, "database": 0}
    telemetry.watch(
        Gauges(
            usage_depth=lambda: 7,
            usage_lag=lambda: 1.5,
            usage_failures=lambda: counts["flush"],
            leases_open=lambda: 3,
            lease_oldest=lambda: 42.0,
            redis_errors=lambda: counts["redis"],
            database_errors=lambda: counts["database"],
        )
    )
    telemetry.refresh()
    counts["flush"], counts["redis"], counts["database"] = 3, 4, 2
    page = telemetry.page()[0].decode()
    assert "sluice_usage_buffer_depth 7.0" in page
    assert "sluice_usage_flush_lag_seconds 1.5" in page
    assert "sluice_credit_leases_open 3.0" in page
    assert "sluice_credit_lease_oldest_age_seconds 42.0" in page
    assert "sluice_usage_flush_failures_total 3.0" in page  # counted once each, not re-added
    assert 'sluice_backend_errors_total{backend="redis"} 4.0' in page
    assert 'sluice_backend_errors_total{backend="database"} 2.0' in page


def test_every_upstream_error_kind_and_backend_exists_at_zero() -> None:
    page = _telemetry().page()[0].decode()
    for kind in ("connect", "timeout", "protocol", "disconnected", "stream_broken", "status_4xx", "status_5xx"):
        assert f'sluice_upstream_errors_total{{kind="{kind}"}} 0.0' in page
    assert 'sluice_backend_errors_total{backend="redis"} 0.0' in page
