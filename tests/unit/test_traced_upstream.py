"""The upstream's client spans: what they record from the bodies, and when a stream's span ends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from application.ports.upstream import StreamChunk, UpstreamError, UpstreamReply
from domain.pricing import Usage
from infrastructure.telemetry.traced_upstream import TracedUpstream, provider_name

BODY = msgspec.json.encode({"model": "a/b", "messages": [], "max_completion_tokens": 9, "top_p": 0.5})


class _Stream:
    def __init__(self, chunks: list[StreamChunk], fail: UpstreamError | None = None) -> None:
        self.chunks = chunks
        self.fail = fail
        self.closed = False

    def __aiter__(self) -> AsyncIterator[StreamChunk]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[StreamChunk]:
        for chunk in self.chunks:
            yield chunk
        if self.fail is not None:
            raise self.fail

    async def aclose(self) -> None:
        self.closed = True


class _Upstream:
    def __init__(self, reply: UpstreamReply | UpstreamError | None = None, stream: _Stream | None = None) -> None:
        self.reply = reply
        self.opened = stream

    async def complete(self, path: str, body: bytes) -> UpstreamReply:
        if isinstance(self.reply, UpstreamError):
            raise self.reply
        assert self.reply is not None
        return self.reply

    async def stream(self, path: str, body: bytes) -> _Stream:
        assert self.opened is not None
        return self.opened

    async def list_models(self, path: str) -> bytes:
        return b"[]"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def _traced(inner: _Upstream, exporter: InMemorySpanExporter) -> TracedUpstream:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return TracedUpstream(inner, provider.get_tracer("t"), "https://openrouter.ai/api/v1", "openrouter")  # type: ignore[arg-type]


async def test_a_reply_names_the_models_the_tokens_and_the_server(exporter: InMemorySpanExporter) -> None:
    answer = b'{"id":"gen-1","model":"a/b-2025","choices":[]}'
    traced = _traced(_Upstream(UpstreamReply(200, answer, Usage(7, 3))), exporter)
    await traced.complete("/chat/completions", BODY)
    [span] = exporter.get_finished_spans()
    assert span.name == "chat a/b" and span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openrouter",
        "server.address": "openrouter.ai",
        "server.port": 443,
        "gen_ai.request.model": "a/b",
        "gen_ai.request.max_tokens": 9,
        "gen_ai.request.top_p": 0.5,
        "http.response.status_code": 200,
        "gen_ai.response.model": "a/b-2025",
        "gen_ai.response.id": "gen-1",
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 3,
    }


async def test_a_failure_names_its_kind_and_the_upstreams_status(exporter: InMemorySpanExporter) -> None:
    error = UpstreamError(502, "The gateway's upstream API key was rejected", "status_4xx", upstream_status=401)
    traced = _traced(_Upstream(error), exporter)
    with pytest.raises(UpstreamError):
        await traced.complete("/embeddings", b"not json")
    [span] = exporter.get_finished_spans()
    assert span.name == "embeddings"  # the body named no model
    assert span.attributes["error.type"] == "status_4xx"
    assert span.attributes["http.response.status_code"] == 401
    assert span.status.status_code is StatusCode.ERROR
    assert "rejected" not in (span.status.description or "")  # the upstream's words stay out


async def test_a_streams_span_ends_at_done_with_its_usage(exporter: InMemorySpanExporter) -> None:
    chunks = [
        StreamChunk(b'data: {"id":"gen-2","model":"a/b-x","choices":[]}\n\n', content_chars=3),
        StreamChunk(b'data: {"usage":{}}\n\n', usage=Usage(4, 5), report_only=True),
        StreamChunk(b"data: [DONE]\n\n", last=True),
    ]
    stream = _Stream(chunks)
    traced = _traced(_Upstream(stream=stream), exporter)
    relayed = await traced.stream("/chat/completions", BODY)
    seen = []
    async for chunk in relayed:
        seen.append(chunk)
        if chunk.last:
            break
    assert seen == chunks
    [span] = exporter.get_finished_spans()  # ended at [DONE], before any aclose
    assert span.attributes["gen_ai.response.model"] == "a/b-x"
    assert span.attributes["gen_ai.usage.output_tokens"] == 5
    assert "error.type" not in span.attributes
    await relayed.aclose()
    assert stream.closed and len(exporter.get_finished_spans()) == 1


async def test_a_broken_or_abandoned_stream_ends_its_span_as_failed(exporter: InMemorySpanExporter) -> None:
    broken = _traced(_Upstream(stream=_Stream([], UpstreamError(502, "ended early", "stream_broken"))), exporter)
    with pytest.raises(UpstreamError):
        async for _ in await broken.stream("/chat/completions", BODY):
            pass
    left = _traced(_Upstream(stream=_Stream([StreamChunk(b"x")])), exporter)
    abandoned = await left.stream("/chat/completions", BODY)
    await abandoned.aclose()
    first, second = exporter.get_finished_spans()
    assert first.attributes["error.type"] == "stream_broken"
    assert second.attributes["error.type"] == "closed_early"


def test_the_provider_is_named_by_the_host_when_it_is_known() -> None:
    assert provider_name("https://openrouter.ai/api/v1", "openai") == "openrouter"
    assert provider_name("https://api.openai.com/v1", "openrouter") == "openai"
    assert provider_name("http://127.0.0.1:9000/api/v1", "openrouter") == "openrouter"
    assert provider_name("http://vllm.internal/v1", "openai") == "openai"
