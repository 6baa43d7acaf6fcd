"""OpenTelemetry tracing: off unless asked for, so the hot path pays nothing by default.

SLUICE_OTEL_CONSOLE=1 prints spans; OTEL_EXPORTER_OTLP_ENDPOINT exports them when the OTLP
exporter package is installed (it is optional: `pip install opentelemetry-exporter-otlp`).
"""

import importlib
import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter


def _otlp_exporter() -> SpanExporter | None:
    try:
        module = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    except ImportError:
        return None
    return module.OTLPSpanExporter()


def configure_tracing() -> TracerProvider | None:
    exporters: list[SpanExporter] = []
    if os.environ.get("SLUICE_OTEL_CONSOLE") == "1":
        exporters.append(ConsoleSpanExporter())
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        exporter = _otlp_exporter()
        if exporter is not None:
            exporters.append(exporter)
    if not exporters:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": "sluice"}))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider
