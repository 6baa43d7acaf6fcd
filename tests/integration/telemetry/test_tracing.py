"""Tracing on: one server span per request, the upstream, database and Redis work as its children.

The real app in this process against the fake upstream, Postgres and Redis; spans read from an
in-memory exporter. Every request sends a fresh ``traceparent``, so a test reads its own trace.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway
from tests.integration.telemetry.conftest import UPSTREAM_KEY, InProcess, in_process_gateway
from tests.integration.telemetry.spans import (
    CHAT,
    CHAT_MODEL,
    EMBEDDING_MODEL,
    GEMINI_MODEL,
    IMAGE_MODEL,
    descends_from,
    one,
    send,
    server_of,
    traceparent,
)


@pytest.fixture(scope="module")
def gateway(operator: Gateway, exporter: InMemorySpanExporter) -> Iterator[InProcess]:
    with in_process_gateway(operator, exporter, {"OTEL_TRACES_EXPORTER": "console"}) as gw:
        yield gw


@pytest.fixture(scope="module")
def key(operator: Gateway) -> str:
    return operator.new_key("traced")


def test_a_chat_completion_is_one_server_span_with_the_upstream_database_and_redis_below(
    gateway: InProcess, key: str, upstream: FakeUpstreamHandle
) -> None:
    body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 50}
    answer, spans, _ = send(gateway, CHAT, key, {**body, "temperature": 0.5})
    assert answer.status_code == 200, answer.text
    server = server_of(spans)
    assert server.name == f"POST {CHAT}"
    assert server.attributes["http.route"] == CHAT
    assert server.attributes["http.request.method"] == "POST"
    assert server.attributes["http.response.status_code"] == 200
    assert server.status.status_code is not StatusCode.ERROR

    client = one(spans, SpanKind.CLIENT, "chat ")
    assert client.name == f"chat {CHAT_MODEL}"
    assert client.parent is not None and client.parent.span_id == server.context.span_id
    usage = answer.json()["usage"]
    assert dict(client.attributes).items() >= {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openrouter",
        "gen_ai.request.model": CHAT_MODEL,
        "gen_ai.response.model": answer.json()["model"],
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.usage.input_tokens": usage["prompt_tokens"],
        "gen_ai.usage.output_tokens": usage["completion_tokens"],
        "server.address": "127.0.0.1",
        "server.port": upstream.port,
        "http.response.status_code": 200,
    }.items()
    assert "error.type" not in client.attributes
    assert server.start_time <= client.start_time and client.end_time <= server.end_time

    database = [s for s in spans if s.attributes.get("db.system") == "postgresql"]
    assert database, [s.name for s in spans]
    assert all(descends_from(s, server, spans) for s in database)
    redis = [s for s in spans if s.attributes.get("db.system.name") == "redis"]
    assert {s.name for s in redis} & {"redis EVALSHA", "redis EVAL"}, [s.name for s in spans]
    assert all(s.parent is not None and s.parent.span_id == server.context.span_id for s in redis)
    assert {s.context.trace_id for s in spans} == {server.context.trace_id}


def test_a_streams_client_span_ends_with_the_stream_and_counts_its_tokens(gateway: InProcess, key: str) -> None:
    body = {
        "model": CHAT_MODEL,
        "messages": [{"role": "user", "content": "stream it"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    answer, spans, _ = send(gateway, CHAT, key, body)
    assert answer.status_code == 200 and "[DONE]" in answer.text
    server = server_of(spans)
    client = one(spans, SpanKind.CLIENT, "chat ")
    assert client.parent is not None and client.parent.span_id == server.context.span_id
    assert client.attributes["gen_ai.request.model"] == CHAT_MODEL
    assert client.attributes["gen_ai.response.model"]
    assert client.attributes["gen_ai.usage.output_tokens"] == 3  # the fake's three chunks
    assert client.attributes["gen_ai.usage.input_tokens"] >= 1
    assert "error.type" not in client.attributes
    assert client.end_time <= server.end_time


def test_an_incoming_traceparent_is_the_server_spans_parent(gateway: InProcess) -> None:
    header, trace_id, parent_id = traceparent()
    answer = httpx.get(gateway.root + "/proxy/v1/models", headers={"traceparent": header}, timeout=10)
    assert answer.status_code == 200
    server = server_of(gateway.spans_of(trace_id))
    assert server.context.trace_id == trace_id
    assert server.parent is not None and server.parent.span_id == parent_id and server.parent.is_remote
    assert server.name == "GET /proxy/v1/models"


def test_without_a_traceparent_a_request_starts_its_own_trace(
    gateway: InProcess, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    assert httpx.get(gateway.root + "/healthz", timeout=10).status_code == 200
    deadline = time.monotonic() + 2  # the span ends just after the answer's last byte is handed on
    while not (servers := [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert [s.name for s in servers] == ["GET /healthz"]
    assert servers[0].parent is None


def test_embeddings_moderations_and_images_have_their_client_spans(gateway: InProcess, key: str) -> None:
    answer, spans, _ = send(gateway, "/proxy/v1/embeddings", key, {"model": EMBEDDING_MODEL, "input": "abc"})
    assert answer.status_code == 200, answer.text
    embeddings = one(spans, SpanKind.CLIENT, "embeddings ")
    assert embeddings.name == f"embeddings {EMBEDDING_MODEL}"
    assert embeddings.attributes["gen_ai.operation.name"] == "embeddings"
    assert embeddings.attributes["gen_ai.usage.input_tokens"] == answer.json()["usage"]["prompt_tokens"]

    answer, spans, _ = send(gateway, "/proxy/v1/moderations", key, {"input": "a harmless sentence"})
    assert answer.status_code == 200, answer.text
    moderation = one(spans, SpanKind.CLIENT, "moderations")
    assert moderation.attributes["gen_ai.operation.name"] == "moderations"
    assert moderation.attributes["gen_ai.provider.name"] == "openai"  # the moderation upstream's default
    assert moderation.parent is not None and moderation.parent.span_id == server_of(spans).context.span_id

    image = {"model": IMAGE_MODEL, "prompt": "a cat", "n": 2, "response_format": "b64_json"}
    answer, spans, _ = send(gateway, "/proxy/v1/images/generations", key, image)
    assert answer.status_code == 200, answer.text
    calls = [s for s in spans if s.kind is SpanKind.CLIENT and s.name == f"chat {IMAGE_MODEL}"]
    assert len(calls) == 2  # one upstream call per image, both under the request
    assert all(c.parent is not None and c.parent.span_id == server_of(spans).context.span_id for c in calls)


def test_an_upstream_failure_marks_the_client_and_server_spans(
    gateway: InProcess, key: str, upstream: FakeUpstreamHandle
) -> None:
    body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}], "fake": {"status": 503}}
    answer, spans, _ = send(gateway, CHAT, key, body)
    assert answer.status_code == 503
    client = one(spans, SpanKind.CLIENT, "chat ")
    assert client.attributes["error.type"] == "status_5xx"
    assert client.attributes["http.response.status_code"] == 503
    assert client.status.status_code is StatusCode.ERROR
    server = server_of(spans)
    assert server.attributes["http.response.status_code"] == 503
    assert server.attributes["error.type"] == "503"
    assert server.status.status_code is StatusCode.ERROR


def test_a_refused_request_is_one_server_span_without_an_upstream_call(gateway: InProcess) -> None:
    body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    answer, spans, _ = send(gateway, CHAT, "sk-sluice-not-a-key", body)
    assert answer.status_code == 401
    server = server_of(spans)
    assert server.attributes["http.response.status_code"] == 401
    assert server.status.status_code is not StatusCode.ERROR  # a client's error is not the server's
    assert not [s for s in spans if s.name.startswith("chat ")]


def test_unmatched_paths_are_named_by_their_method_only(gateway: InProcess) -> None:
    header, trace_id, _ = traceparent()
    path = f"/no/such/{secrets.token_hex(4)}"
    assert httpx.get(gateway.root + path, headers={"traceparent": header}, timeout=10).status_code == 404
    server = server_of(gateway.spans_of(trace_id))
    assert server.name == "GET"
    assert "http.route" not in server.attributes
    assert server.attributes["url.path"] == path


def _values(spans: list[ReadableSpan]) -> list[str]:
    found = []
    for span in spans:
        found.append(span.name)
        for value in span.attributes.values():
            found.extend(str(v) for v in value) if isinstance(value, tuple) else found.append(str(value))
        for event in span.events:
            found.extend(str(v) for v in (event.attributes or {}).values())
    return found


def test_no_span_holds_a_key_in_any_of_its_three_places(gateway: InProcess, key: str) -> None:
    chat = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hello"}]}
    gemini = {"contents": [{"parts": [{"text": "hi"}]}]}
    generate = f"/v1beta/models/{GEMINI_MODEL}:generateContent"
    recorded: list[ReadableSpan] = []
    for path, auth, body, headers in (
        (CHAT, key, chat, {}),
        (generate, None, gemini, {"x-goog-api-key": key}),
        (f"{generate}?key={key}&alt=sse", None, gemini, {}),
        (f"{generate}?key=sk-sluice-wrong", None, gemini, {}),
    ):
        answer, spans, _ = send(gateway, path, auth, body, **headers)
        assert answer.status_code in (200, 401), answer.text
        recorded += spans
    with_query = [s for s in recorded if "url.query" in s.attributes]
    assert {s.attributes["url.query"] for s in with_query} == {"key=REDACTED&alt=sse", "key=REDACTED"}
    servers = {s.name for s in recorded if s.kind is SpanKind.SERVER}
    assert servers == {f"POST {CHAT}", "POST /v1beta/models/{target}"}, servers
    values = _values(recorded)
    for secret in (key, key.removeprefix("sk-sluice-"), "sk-sluice-wrong", UPSTREAM_KEY, "Bearer"):
        assert not [v for v in values if secret in v], secret


def test_work_outside_any_request_makes_no_trace_of_its_own(
    gateway: InProcess, key: str, exporter: InMemorySpanExporter
) -> None:
    """The readiness watch pings Redis and the database every 5 s; usage records are flushed in the
    background: none of it may become a stream of one-span traces."""
    answer, _, _ = send(gateway, CHAT, key, {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "x"}]})
    assert answer.status_code == 200
    time.sleep(0.5)  # the request's own settlement and spans
    exporter.clear()
    time.sleep(5.5)
    assert [(s.name, s.kind) for s in exporter.get_finished_spans()] == []


def test_an_unsampled_trace_is_served_and_records_nothing(gateway: InProcess, key: str) -> None:
    """The caller said "not sampled" (flags 00): the parent-based sampler keeps every span non-recording."""
    body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "x"}]}
    for sent in (body, {**body, "stream": True}):
        header, trace_id, _ = traceparent()
        headers = {"Authorization": f"Bearer {key}", "traceparent": header[:-2] + "00"}
        answer = httpx.post(gateway.root + CHAT, json=sent, headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        assert gateway.spans_of(trace_id, settle=0.5) == []
