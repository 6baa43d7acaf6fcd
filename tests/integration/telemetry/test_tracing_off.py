"""Tracing off (no OTEL_* variable, or OTEL_SDK_DISABLED=true): no span at all, and nothing wrapped."""

from __future__ import annotations

import time

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from interfaces.http.observing import ObservingMiddleware
from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway
from tests.integration.telemetry.conftest import in_process_gateway
from tests.integration.telemetry.spans import CHAT, CHAT_MODEL, traceparent


@pytest.mark.parametrize(
    "env",
    [{}, {"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}, {"OTEL_TRACES_EXPORTER": "none"}],
    ids=["unset", "sdk-disabled", "exporter-none"],
)
def test_no_span_is_made_and_the_app_is_not_wrapped(
    operator: Gateway, exporter: InMemorySpanExporter, upstream: FakeUpstreamHandle, env: dict[str, str]
) -> None:
    key = operator.new_key("traced")
    with in_process_gateway(operator, exporter, {**env, "SLUICE_OTEL_PROPAGATE_UPSTREAM": "1"}) as gateway:
        assert isinstance(gateway.app, ObservingMiddleware)  # the lead's outermost layer, unwrapped
        exporter.clear()
        upstream.clear()
        body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}]}
        for sent in (body, {**body, "stream": True}):
            header, _, _ = traceparent()
            headers = {"Authorization": f"Bearer {key}", "traceparent": header}
            answer = httpx.post(gateway.root + CHAT, json=sent, headers=headers, timeout=30)
            assert answer.status_code == 200, answer.text
        assert httpx.get(gateway.root + "/readyz", timeout=10).status_code == 200
        time.sleep(0.3)  # a stream's settling runs after its answer
        assert exporter.get_finished_spans() == ()
        assert all("traceparent" not in r.headers for r in upstream.requests())
