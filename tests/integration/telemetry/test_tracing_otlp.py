"""`sluice serve` exports its spans over OTLP/HTTP, configured by nothing but the standard variables.

A stand-in collector in the test (an HTTP server decoding ``ExportTraceServiceRequest``) receives
what the gateway sends, run with two worker processes as deployed (each builds its own exporter).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway
from tests.integration.telemetry.spans import CHAT, CHAT_MODEL, traceparent


class Collector:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], ExportTraceServiceRequest]] = []
        self.lock = threading.Lock()

    def spans(self) -> list[tuple[dict[str, str], object]]:
        """(resource attributes, span) for every span received."""
        found = []
        with self.lock:
            for _, _, export in self.requests:
                for resource_spans in export.resource_spans:
                    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                    for scope_spans in resource_spans.scope_spans:
                        found.extend((resource, span) for span in scope_spans.spans)
        return found


@pytest.fixture
def collector() -> Iterator[tuple[Collector, str]]:
    collected = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            export = ExportTraceServiceRequest.FromString(body)
            with collected.lock:
                collected.requests.append((self.path, dict(self.headers), export))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield collected, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_two_workers_export_their_spans_to_the_otlp_endpoint(
    collector: tuple[Collector, str], upstream: FakeUpstreamHandle, operator: Gateway
) -> None:
    collected, endpoint = collector
    key = operator.new_key("traced")
    gw = Gateway(
        upstream.base_url,
        extra_env={
            **{k: v for k, v in operator.env.items() if k.startswith("SLUICE_") and k != "SLUICE_PORT"},
            "SLUICE_WORKERS": "2",
            "SLUICE_LOG_LEVEL": "info",  # the request log's lines
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,  # no OTEL_TRACES_EXPORTER: the endpoint turns it on
            "OTEL_EXPORTER_OTLP_HEADERS": "x-collector-token=abc123",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=test",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
    )
    gw.start()
    try:
        sent: set[int] = set()
        with httpx.Client(timeout=30) as client:
            for _ in range(8):
                header, trace_id, _ = traceparent()
                headers = {"Authorization": f"Bearer {key}", "traceparent": header}
                body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "x"}]}
                answer = client.post(gw.root + CHAT, json=body, headers=headers)
                assert answer.status_code == 200, answer.text
                sent.add(trace_id)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            servers = {
                int.from_bytes(s.trace_id, "big"): s for _, s in collected.spans() if s.kind == s.SPAN_KIND_SERVER
            }
            if sent <= set(servers):
                break
            time.sleep(0.1)
    finally:
        gw.stop()
    assert sent <= set(servers), gw.log()[-3000:]
    paths = {path for path, _, _ in collected.requests}
    assert paths == {"/v1/traces"}
    assert all(headers.get("x-collector-token") == "abc123" for _, headers, _ in collected.requests)
    resources = [resource for resource, span in collected.spans() if int.from_bytes(span.trace_id, "big") in sent]
    assert {r["service.name"] for r in resources} == {"sluice"}
    assert {r["deployment.environment.name"] for r in resources} == {"test"}
    names = {span.name for _, span in collected.spans() if int.from_bytes(span.trace_id, "big") in sent}
    assert {f"POST {CHAT}", f"chat {CHAT_MODEL}", "redis EVALSHA"} <= names, names
    # The request log names each request's trace (and its server span), so a line leads to its trace.
    lines = [json.loads(line) for line in gw.log().splitlines() if line.startswith("{")]
    logged = [line for line in lines if line.get("logger") == "sluice.request" and line.get("path") == CHAT]
    assert {int(line["trace_id"], 16) for line in logged} == sent
    server_ids = {s.span_id.hex() for _, s in collected.spans() if s.kind == s.SPAN_KIND_SERVER}
    assert {line["span_id"] for line in logged} <= server_ids


def test_the_spans_still_queued_are_sent_when_the_workers_stop(
    collector: tuple[Collector, str], upstream: FakeUpstreamHandle, operator: Gateway
) -> None:
    """No periodic export in the run (a 10-minute batch delay): only the stop's flush sends them."""
    collected, endpoint = collector
    key = operator.new_key("traced")
    gw = Gateway(
        upstream.base_url,
        extra_env={
            **{k: v for k, v in operator.env.items() if k.startswith("SLUICE_") and k != "SLUICE_PORT"},
            "SLUICE_WORKERS": "2",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "600000",
        },
    )
    gw.start()
    sent: set[int] = set()
    try:
        for _ in range(4):
            header, trace_id, _ = traceparent()
            headers = {"Authorization": f"Bearer {key}", "traceparent": header}
            body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "x"}]}
            assert httpx.post(gw.root + CHAT, json=body, headers=headers, timeout=30).status_code == 200
            sent.add(trace_id)
        time.sleep(0.5)
        assert collected.spans() == []  # nothing exported while serving
    finally:
        stopped = time.monotonic()
        assert gw.stop() == 0
    exported = {int.from_bytes(s.trace_id, "big") for _, s in collected.spans() if s.kind == s.SPAN_KIND_SERVER}
    assert sent <= exported, gw.log()[-3000:]
    assert time.monotonic() - stopped < 20
