"""OpenTelemetry tracing: off unless the standard ``OTEL_*`` variables ask for it.

On when ``OTEL_TRACES_EXPORTER`` names ``otlp`` or ``console``, or, with it unset, when
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set; ``none`` and
``OTEL_SDK_DISABLED=true`` turn it off whatever else is set. OTLP goes over HTTP (protobuf, port
4318). Everything else is read by the SDK itself, as it documents: the exporter's endpoint, headers,
timeout and compression, ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` (the service is
named ``sluice`` unless they name it), ``OTEL_TRACES_SAMPLER`` / ``_ARG``, ``OTEL_BSP_*`` and the
span limits. ``OTEL_PYTHON_EXCLUDED_URLS`` (regular expressions, comma-separated) leaves matching
paths untraced, e.g. ``healthz,readyz,metrics``. ``SLUICE_OTEL_PROPAGATE_UPSTREAM=1`` also sends
the W3C ``traceparent`` to the upstream (off by default: the upstream is a third party).

Off, nothing is wrapped or instrumented: the adapters are built as if tracing did not exist, which
is how it costs nothing (``enabled()`` is read once, when they are built). A tracer provider that
is already installed (by ``opentelemetry-instrument``, or a test) is used as it is.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the SDK is imported when tracing is turned on: every CLI command imports this module
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = [
    "TracingConfig",
    "child_tracer",
    "configure_tracing",
    "enabled",
    "inject_trace_headers",
    "instrument_asgi",
    "propagate_upstream",
    "trace_engine",
    "tracer",
    "tracing_config",
]

_log = logging.getLogger(__name__)
_EXPORTERS = ("otlp", "console")
_DEFAULT_SERVICE_NAME = "sluice"
_TRUE = ("1", "true", "yes", "on")
_FLUSH_MILLIS = 5000  # at shutdown, how long the spans still queued may take to be sent


@dataclass(frozen=True, slots=True)
class TracingConfig:
    exporters: tuple[str, ...]  # of _EXPORTERS, in the order given
    propagate_upstream: bool


def tracing_config(environ: Mapping[str, str]) -> TracingConfig | None:
    """What the environment asks for; None when tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    named = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if named:
        exporters = []
        for name in (part.strip() for part in named.split(",")):
            if name == "none":
                return None  # the specification: "none" means no exporter, whatever else is listed
            if name in ("otlp", "otlp_proto_http"):
                name = "otlp"
            if name not in _EXPORTERS:
                _log.warning("OTEL_TRACES_EXPORTER: %r is not supported (only otlp and console); ignored", name)
            elif name not in exporters:
                exporters.append(name)
    elif environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        exporters = ["otlp"]
    else:
        return None
    if not exporters:
        return None
    propagate_up = environ.get("SLUICE_OTEL_PROPAGATE_UPSTREAM", "").strip().lower() in _TRUE
    return TracingConfig(tuple(exporters), propagate_up)


class _State:
    config: TracingConfig | None = None
    tracer: trace.Tracer | None = None
    provider: TracerProvider | None = None


_STATE = _State()


def enabled() -> bool:
    return _STATE.config is not None


def propagate_upstream() -> bool:
    return _STATE.config is not None and _STATE.config.propagate_upstream


def tracer() -> trace.Tracer:
    """Sluice's tracer (only asked for when tracing is on)."""
    from opentelemetry import trace

    if _STATE.tracer is None:
        _STATE.tracer = trace.get_tracer("sluice")
    return _STATE.tracer


def inject_trace_headers(headers: dict[str, str]) -> None:
    """Adds the current span's ``traceparent`` (and ``tracestate``) to an outgoing request's headers."""
    from opentelemetry import propagate

    propagate.inject(headers)


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    if protocol and protocol != "http/protobuf":
        _log.warning("OTEL_EXPORTER_OTLP_PROTOCOL=%s is not supported: traces go over http/protobuf", protocol)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout, compression: from OTEL_EXPORTER_OTLP_*


def _resource() -> Resource:
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    resource = Resource.create()  # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read by the SDK
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: _DEFAULT_SERVICE_NAME}))
    return resource


def build_provider(config: TracingConfig) -> TracerProvider:
    """A provider exporting as `config` says; the sampler and limits are the SDK's, from the environment."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=_resource())
    for name in config.exporters:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    return provider


def configure_tracing(environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Once per worker process, before the adapters are built; the provider in use, or None when off."""
    config = tracing_config(os.environ if environ is None else environ)
    _STATE.config = config
    _STATE.tracer = None
    _STATE.provider = None
    if config is None:
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        _STATE.provider = current
        return current
    provider = _STATE.provider = build_provider(config)
    trace.set_tracer_provider(provider)
    return provider


def _excluded_paths() -> re.Pattern[str] | None:
    """OpenTelemetry Python's convention: comma-separated regular expressions, searched in the path."""
    raw = os.environ.get("OTEL_PYTHON_ASGI_EXCLUDED_URLS") or os.environ.get("OTEL_PYTHON_EXCLUDED_URLS") or ""
    patterns = [part.strip() for part in raw.split(",") if part.strip()]
    return re.compile("|".join(patterns)) if patterns else None


def instrument_asgi(app: Any) -> Any:
    """The app with a server span around every HTTP request; the app itself when tracing is off."""
    if not enabled():
        return app
    from infrastructure.telemetry.server_spans import ServerSpans

    provider = _STATE.provider
    flush = None if provider is None else (lambda: provider.force_flush(_FLUSH_MILLIS))
    return ServerSpans(app, tracer(), _excluded_paths(), flush)


class _ChildSpansOnly:
    """A tracer that makes a span only inside another one: database and Redis work outside any request
    (the usage buffer's flushes, lease renewals, the readiness watch) would otherwise be a stream of
    one-span traces drowning the requests' ones."""

    def __init__(self, inner: trace.Tracer) -> None:
        from opentelemetry import trace

        self._inner = inner
        self._current_span = trace.get_current_span
        self._nothing = trace.INVALID_SPAN

    def start_span(self, name: str, context: Any = None, *args: Any, **kwargs: Any) -> trace.Span:
        if context is None and not self._current_span().is_recording():
            return self._nothing
        return self._inner.start_span(name, context, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def child_tracer() -> trace.Tracer:
    """`tracer()`, for spans that belong to a request or to nothing."""
    return _ChildSpansOnly(tracer())  # type: ignore[return-value]


def trace_engine(engine: Any) -> None:
    """A span per statement of this (sync) SQLAlchemy engine, from opentelemetry-instrumentation-sqlalchemy.

    Its `EngineTracer` on this engine alone: the instrumentor would also patch SQLAlchemy's
    `create_engine` for every engine of the process. Statements are recorded with their
    placeholders, never their parameters.
    """
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeter

    usage = NoOpMeter("sluice").create_up_down_counter("db.client.connections.usage")
    EngineTracer(child_tracer(), engine, usage)
