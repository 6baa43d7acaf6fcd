"""``traceparent`` to the upstream: only with SLUICE_OTEL_PROPAGATE_UPSTREAM=1 (the upstream is a third party)."""

from __future__ import annotations

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway
from tests.integration.telemetry.conftest import InProcess, in_process_gateway
from tests.integration.telemetry.spans import CHAT, CHAT_MODEL, EMBEDDING_MODEL, traceparent

CHAT_BODY = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}]}


def _client_spans_named(gateway: InProcess, trace_id: int, prefix: str) -> list:
    return [s for s in gateway.spans_of(trace_id) if s.kind is SpanKind.CLIENT and s.name.startswith(prefix)]


def test_with_propagation_the_upstream_is_told_the_client_spans_context(
    operator: Gateway, exporter: InMemorySpanExporter, upstream: FakeUpstreamHandle
) -> None:
    key = operator.new_key("traced")
    env = {"OTEL_TRACES_EXPORTER": "console", "SLUICE_OTEL_PROPAGATE_UPSTREAM": "1"}
    with in_process_gateway(operator, exporter, env) as gateway:
        for path, body, stream in (
            (CHAT, CHAT_BODY, False),
            (CHAT, {**CHAT_BODY, "stream": True}, True),
            ("/proxy/v1/embeddings", {"model": EMBEDDING_MODEL, "input": "abc"}, False),
        ):
            upstream.clear()
            header, trace_id, _ = traceparent()
            headers = {"Authorization": f"Bearer {key}", "traceparent": header}
            answer = httpx.post(gateway.root + path, json=body, headers=headers, timeout=30)
            assert answer.status_code == 200, answer.text
            [client] = _client_spans_named(gateway, trace_id, "chat " if path == CHAT else "embeddings ")
            [received] = [r for r in upstream.requests() if r.path.endswith(path.rsplit("/v1", 1)[1])]
            version, sent_trace, sent_parent, flags = received.headers["traceparent"].split("-")
            assert (version, flags) == ("00", "01"), stream
            assert int(sent_trace, 16) == trace_id, stream
            assert int(sent_parent, 16) == client.context.span_id, stream  # the call's span, not the request's


def test_without_propagation_the_upstream_hears_of_no_trace(
    operator: Gateway, exporter: InMemorySpanExporter, upstream: FakeUpstreamHandle
) -> None:
    key = operator.new_key("traced")
    with in_process_gateway(operator, exporter, {"OTEL_TRACES_EXPORTER": "console"}) as gateway:
        for body in (CHAT_BODY, {**CHAT_BODY, "stream": True}):
            upstream.clear()
            header, trace_id, _ = traceparent()
            headers = {"Authorization": f"Bearer {key}", "traceparent": header, "tracestate": "vendor=x"}
            answer = httpx.post(gateway.root + CHAT, json=body, headers=headers, timeout=30)
            assert answer.status_code == 200, answer.text
            assert _client_spans_named(gateway, trace_id, "chat ")  # traced all the same
            [received] = [r for r in upstream.requests() if r.path.endswith("/chat/completions")]
            assert not {"traceparent", "tracestate", "baggage"} & set(received.headers), received.headers
