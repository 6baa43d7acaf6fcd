"""The server span around one ASGI call: name, parent, status, what is never recorded, and exclusions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from infrastructure.telemetry.server_spans import ServerSpans

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _scope(path: str = "/v1/chat/completions", query: bytes = b"", parent: str | None = PARENT) -> dict[str, Any]:
    headers = [(b"authorization", b"Bearer sk-sluice-secret"), (b"x-goog-api-key", b"sk-sluice-secret")]
    if parent:
        headers.append((b"traceparent", parent.encode()))
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": query,
        "headers": headers,
        "server": ("10.0.0.1", 8080),
        "client": ("10.0.0.2", 5000),
    }


def _app(status: int = 200, route: str | None = "/v1/chat/completions", fail: bool = False) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if route:
            scope["path_template"] = route
        if fail:
            raise RuntimeError("boom")
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


async def _call(
    app: Any, scope: dict[str, Any], excluded: re.Pattern[str] | None = None, into: InMemorySpanExporter | None = None
) -> InMemorySpanExporter:
    exporter = into or InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        pass

    await ServerSpans(app, provider.get_tracer("t"), excluded)(scope, receive, send)
    return exporter


async def test_a_request_is_one_server_span_under_the_callers_parent() -> None:
    exporter = await _call(_app(), _scope(query=b"key=sk-sluice-secret&alt=sse"))
    [span] = exporter.get_finished_spans()
    assert span.kind is SpanKind.SERVER and span.name == "POST /v1/chat/completions"
    assert span.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert span.parent is not None and span.parent.span_id == 0xB7AD6B7169203331 and span.parent.is_remote
    assert span.attributes["url.query"] == "key=REDACTED&alt=sse"
    assert span.attributes["http.response.status_code"] == 200
    assert not [v for v in span.attributes.values() if "secret" in str(v)]


async def test_a_5xx_and_an_exception_are_errors_and_a_4xx_is_not() -> None:
    [failed] = (await _call(_app(503), _scope())).get_finished_spans()
    assert failed.status.status_code is StatusCode.ERROR and failed.attributes["error.type"] == "503"
    [refused] = (await _call(_app(429), _scope())).get_finished_spans()
    assert refused.status.status_code is StatusCode.UNSET and "error.type" not in refused.attributes
    exporter = InMemorySpanExporter()
    with pytest.raises(RuntimeError):
        await _call(_app(fail=True), _scope(), into=exporter)
    [crashed] = exporter.get_finished_spans()
    assert crashed.attributes["error.type"] == "RuntimeError" and crashed.status.status_code is StatusCode.ERROR
    assert crashed.name == "POST /v1/chat/completions"


async def test_an_unsampled_caller_and_an_excluded_path_record_nothing() -> None:
    unsampled = await _call(_app(), _scope(parent=PARENT[:-2] + "00"))
    assert unsampled.get_finished_spans() == ()
    excluded = await _call(_app(route="/healthz"), _scope("/healthz"), re.compile("healthz|metrics"))
    assert excluded.get_finished_spans() == ()


async def test_an_image_token_stays_out_of_the_path_and_an_unmatched_path_out_of_the_name() -> None:
    [image] = (await _call(_app(route="/files/images/{token}"), _scope("/files/images/abc123"))).get_finished_spans()
    assert image.attributes["url.path"] == "/files/images/{token}"
    assert "abc123" not in image.name
    [unmatched] = (await _call(_app(404, route=None), _scope("/nowhere/x1"))).get_finished_spans()
    assert unmatched.name == "POST" and unmatched.attributes["url.path"] == "/nowhere/x1"


async def test_the_queued_spans_are_flushed_before_the_server_hears_the_app_stopped() -> None:
    events: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    async def send(message: Any) -> None:
        events.append(message["type"])

    wrapped = ServerSpans(app, TracerProvider().get_tracer("t"), flush=lambda: events.append("flush"))
    await wrapped({"type": "lifespan"}, None, send)  # type: ignore[arg-type]
    assert events == ["lifespan.startup.complete", "flush", "lifespan.shutdown.complete"]
