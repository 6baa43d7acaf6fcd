"""Tracing's switch and settings: the standard OTEL_* variables, read as the specification says."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio

from infrastructure.telemetry import tracing
from infrastructure.telemetry.server_spans import ServerSpans, redacted_query
from infrastructure.telemetry.tracing import TracingConfig, build_provider, configure_tracing, tracing_config


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"SLUICE_OTEL_PROPAGATE_UPSTREAM": "1"}, None),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, TracingConfig(("otlp",), False)),
        ({"OTEL_TRACES_EXPORTER": "console"}, TracingConfig(("console",), False)),
        ({"OTEL_TRACES_EXPORTER": " OTLP , console "}, TracingConfig(("otlp", "console"), False)),
        ({"OTEL_TRACES_EXPORTER": "otlp_proto_http"}, TracingConfig(("otlp",), False)),
        ({"OTEL_TRACES_EXPORTER": "none"}, None),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, None),
        ({"OTEL_TRACES_EXPORTER": "console,none"}, None),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, None),
        ({"OTEL_TRACES_EXPORTER": "zipkin,console"}, TracingConfig(("console",), False)),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, TracingConfig(("otlp",), False)),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, TracingConfig(("otlp",), False)),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, None),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, None),
        ({"OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, None),
        ({"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, TracingConfig(("otlp",), False)),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "SLUICE_OTEL_PROPAGATE_UPSTREAM": "1"},
            TracingConfig(("otlp",), True),
        ),
        ({"OTEL_TRACES_EXPORTER": "otlp", "SLUICE_OTEL_PROPAGATE_UPSTREAM": "0"}, TracingConfig(("otlp",), False)),
    ],
)
def test_the_environment_decides_on_or_off(env: dict[str, str], expected: TracingConfig | None) -> None:
    assert tracing_config(env) == expected


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    return monkeypatch


@contextmanager
def _provider(config: TracingConfig) -> Iterator[TracerProvider]:
    provider = build_provider(config)
    try:
        yield provider
    finally:
        provider.shutdown()


def test_the_service_is_sluice_unless_the_environment_names_it(clean_env: pytest.MonkeyPatch) -> None:
    with _provider(TracingConfig(("console",), False)) as provider:
        assert provider.resource.attributes["service.name"] == "sluice"
    clean_env.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=edge,deployment.environment.name=prod")
    with _provider(TracingConfig(("console",), False)) as provider:
        assert provider.resource.attributes["service.name"] == "edge"
        assert provider.resource.attributes["deployment.environment.name"] == "prod"
    clean_env.setenv("OTEL_SERVICE_NAME", "gateway-eu")
    with _provider(TracingConfig(("console",), False)) as provider:
        assert provider.resource.attributes["service.name"] == "gateway-eu"


def test_the_sdk_reads_the_sampler_and_the_exporters_settings(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    clean_env.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    clean_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    with _provider(TracingConfig(("otlp", "console"), False)) as provider:
        assert isinstance(provider.sampler, ParentBasedTraceIdRatio)
        assert provider.sampler._root.rate == 0.25
        exporters = [p.span_exporter for p in provider._active_span_processor._span_processors]
        assert [type(e) for e in exporters] == [OTLPSpanExporter, ConsoleSpanExporter]
        assert exporters[0]._endpoint == "http://collector:4318/v1/traces"
    clean_env.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://other:4318/custom")
    with _provider(TracingConfig(("otlp",), False)) as provider:
        assert provider._active_span_processor._span_processors[0].span_exporter._endpoint == "http://other:4318/custom"


@pytest.fixture
def state() -> Iterator[None]:
    """configure_tracing sets the process's switch: put it back for the tests that follow."""
    yield
    configure_tracing({})


def test_configure_tracing_sets_the_switch_and_installs_a_provider_once(
    state: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed: list[object] = []
    none = trace.NoOpTracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: installed[-1] if installed else none)
    monkeypatch.setattr(trace, "set_tracer_provider", installed.append)

    assert configure_tracing({}) is None
    assert not tracing.enabled() and not tracing.propagate_upstream()

    provider = configure_tracing({"OTEL_TRACES_EXPORTER": "console", "SLUICE_OTEL_PROPAGATE_UPSTREAM": "1"})
    try:
        assert isinstance(provider, TracerProvider) and installed == [provider]
        assert tracing.enabled() and tracing.propagate_upstream()
        # A second call (or a provider someone installed first) keeps the provider in place.
        assert configure_tracing({"OTEL_TRACES_EXPORTER": "console"}) is provider
        assert installed == [provider] and not tracing.propagate_upstream()
        assert configure_tracing({"OTEL_SDK_DISABLED": "true"}) is None and not tracing.enabled()
    finally:
        provider.shutdown()


async def _app(scope: object, receive: object, send: object) -> None:
    pass


def test_instrument_asgi_wraps_only_when_tracing_is_on(state: None, monkeypatch: pytest.MonkeyPatch) -> None:
    configure_tracing({})
    assert tracing.instrument_asgi(_app) is _app
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: TracerProvider())
    configure_tracing({"OTEL_TRACES_EXPORTER": "console"})
    assert isinstance(tracing.instrument_asgi(_app), ServerSpans)


@pytest.mark.parametrize(
    ("raw", "recorded"),
    [
        (b"key=sk-sluice-abc", "key=REDACTED"),
        (b"alt=sse&key=AIza123", "alt=sse&key=REDACTED"),
        (b"code=xyz&state=s1", "code=REDACTED&state=REDACTED"),
        (b"flag&limit=10", "flag&limit=10"),
        (b"key=a=b", "key=REDACTED"),
    ],
)
def test_query_values_are_redacted_but_the_harmless_ones(raw: bytes, recorded: str) -> None:
    assert redacted_query(raw) == recorded
