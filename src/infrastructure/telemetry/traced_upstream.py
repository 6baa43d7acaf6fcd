"""The `Upstream` port with a CLIENT span per call, in the ``gen_ai.*`` semantic conventions.

Only built when tracing is on (`traced_upstream` returns the adapter itself otherwise), so the off
path has no wrapper at all. The span is the current one while the call is sent, which is how the
adapter's ``traceparent`` (when propagation is on) names it as the upstream's parent. A stream's
span ends with the stream: its ``[DONE]``, its failure, or its closing, whichever comes first.

What is recorded comes from the request and answer bodies, decoded here again (only the few
fields named, and only with tracing on): the model asked for and the one that answered, the
token counts, ``max_tokens`` and ``temperature``. Never a message, a header or a key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import msgspec
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from application.ports.upstream import Frames, StreamChunk, Upstream, UpstreamError, UpstreamReply, UpstreamStream

__all__ = ["TracedUpstream", "traced_upstream"]

_OPERATIONS = {
    "/chat/completions": "chat",
    "/completions": "text_completion",
    "/embeddings": "embeddings",
    "/moderations": "moderations",
}
_KNOWN_PROVIDERS = (("openrouter.ai", "openrouter"), ("openai.com", "openai"))


class _Request(msgspec.Struct):
    model: str | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None


class _Answer(msgspec.Struct):
    model: str | None = None
    id: str | None = None


_decode_request = msgspec.json.Decoder(_Request).decode
_decode_answer = msgspec.json.Decoder(_Answer).decode


def _read(decode: Any, body: bytes) -> Any:
    try:
        return decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None  # a body the adapter will refuse or that the upstream sent oddly: nothing to name


def provider_name(base_url: str, default: str) -> str:
    host = (urlsplit(base_url).hostname or "").lower()
    for suffix, name in _KNOWN_PROVIDERS:
        if host == suffix or host.endswith("." + suffix):
            return name
    return default


class TracedUpstream:
    def __init__(self, inner: Upstream, tracer: trace.Tracer, base_url: str, provider: str) -> None:
        self._inner = inner
        self._tracer = tracer
        parts = urlsplit(base_url)
        self._server: dict[str, Any] = {"gen_ai.provider.name": provider, "server.address": parts.hostname or ""}
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self._server["server.port"] = port

    def _start(self, path: str, body: bytes) -> Span:
        operation = _OPERATIONS.get(path, path.strip("/") or "other")
        parent = trace.get_current_span()
        if parent.get_span_context().is_valid and not parent.is_recording():
            return self._tracer.start_span(operation, kind=SpanKind.CLIENT)  # an unsampled trace: no reading
        attributes = {"gen_ai.operation.name": operation, **self._server}
        request = _read(_decode_request, body)
        name = operation
        if request is not None:
            if request.model:
                attributes["gen_ai.request.model"] = request.model
                name = f"{operation} {request.model}"
            max_tokens = request.max_completion_tokens if request.max_tokens is None else request.max_tokens
            if max_tokens is not None:
                attributes["gen_ai.request.max_tokens"] = max_tokens
            if request.temperature is not None:
                attributes["gen_ai.request.temperature"] = request.temperature
            if request.top_p is not None:
                attributes["gen_ai.request.top_p"] = request.top_p
        return self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)

    async def complete(self, path: str, body: bytes) -> UpstreamReply:
        span = self._start(path, body)
        try:
            with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
                reply = await self._inner.complete(path, body)
        except BaseException as exc:
            _failed(span, exc)
            span.end()
            raise
        if not span.is_recording():
            span.end()
            return reply
        span.set_attribute("http.response.status_code", reply.status)
        answer = _read(_decode_answer, reply.body)
        if answer is not None:
            _answered(span, answer)
        if reply.usage is not None:
            span.set_attribute("gen_ai.usage.input_tokens", reply.usage.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", reply.usage.completion_tokens)
        span.end()
        return reply

    async def stream(self, path: str, body: bytes) -> UpstreamStream:
        span = self._start(path, body)
        try:
            with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
                inner = await self._inner.stream(path, body)
        except BaseException as exc:
            _failed(span, exc)
            span.end()
            raise
        if not span.is_recording():
            span.end()
            return inner  # an unsampled trace: nothing to note while it streams
        span.set_attribute("http.response.status_code", getattr(inner, "status", 200))
        return _TracedStream(inner, span)

    async def list_models(self, path: str) -> bytes:
        return await self._inner.list_models(path)


def _answered(span: Span, answer: _Answer) -> None:
    if answer.model:
        span.set_attribute("gen_ai.response.model", answer.model)
    if answer.id:
        span.set_attribute("gen_ai.response.id", answer.id)


def _failed(span: Span, exc: BaseException) -> None:
    if isinstance(exc, UpstreamError):
        kind = exc.kind
        if exc.upstream_status is not None:
            span.set_attribute("http.response.status_code", exc.upstream_status)
    else:
        kind = type(exc).__qualname__  # cancelled (the client went away), or a bug
    span.set_attribute("error.type", kind)
    span.set_status(Status(StatusCode.ERROR, kind))


def _frame_answer(raw: bytes) -> _Answer | None:
    """The model and id of an SSE ``data:`` frame, if it is one."""
    start = raw.find(b"data:")
    if start < 0:
        return None
    data = raw[start + 5 :].strip()
    if not data.startswith(b"{"):
        return None
    return _read(_decode_answer, data)


class _TracedStream:
    __slots__ = ("_inner", "_iterator", "_named", "_span")

    def __init__(self, inner: UpstreamStream, span: Span) -> None:
        self._inner = inner
        self._iterator: AsyncIterator[StreamChunk] = inner.__aiter__()
        self._span: Span | None = span
        self._named = False  # the answering model read off the first frame that names it

    def __aiter__(self) -> _TracedStream:
        return self

    async def __anext__(self) -> StreamChunk:
        try:
            chunk = await self._iterator.__anext__()
        except StopAsyncIteration:
            self._end()
            raise
        except BaseException as exc:
            if self._span is not None:
                _failed(self._span, exc)
            self._end()
            raise
        self._note(chunk)
        return chunk

    async def batches(self) -> AsyncIterator[Frames]:
        try:
            async for frames in self._inner.batches():
                for chunk in frames:
                    self._note(chunk)
                yield frames
        except GeneratorExit:
            raise  # closed by its reader: aclose says so
        except BaseException as exc:
            if self._span is not None:
                _failed(self._span, exc)
            self._end()
            raise
        self._end()

    def _note(self, chunk: StreamChunk) -> None:
        span = self._span
        if span is not None:
            if not self._named and chunk.raw:
                answer = _frame_answer(chunk.raw)
                if answer is not None and answer.model:
                    self._named = True
                    _answered(span, answer)
            if chunk.usage is not None:
                span.set_attribute("gen_ai.usage.input_tokens", chunk.usage.prompt_tokens)
                span.set_attribute("gen_ai.usage.output_tokens", chunk.usage.completion_tokens)
            if chunk.last:
                self._end()

    def _end(self) -> None:
        if self._span is not None:
            self._span.end()
            self._span = None

    async def aclose(self) -> None:
        if self._span is not None:
            self._span.set_attribute("error.type", "closed_early")  # the client went away mid-stream
            self._span.set_status(Status(StatusCode.ERROR, "closed_early"))
        self._end()
        await self._inner.aclose()


def traced_upstream(upstream: Upstream, base_url: str, provider: str) -> Upstream:
    """`upstream` with a span per call when tracing is on; `upstream` itself when it is off.

    `provider` names the upstream unless its host is OpenRouter's or OpenAI's (``gen_ai.provider.name``).
    """
    from infrastructure.telemetry import tracing

    if not tracing.enabled():
        return upstream
    return TracedUpstream(upstream, tracing.tracer(), base_url, provider_name(base_url, provider))
