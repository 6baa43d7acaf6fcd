"""The `Upstream` port over HTTP: OpenRouter, or any OpenAI-compatible server.

The calls the gateway forwards go over `Http1Pool` (`http1.py`, pooled keep-alive HTTP/1.1 on
httptools' parser), which costs a fifth of aiohttp's CPU per call; the model catalogue goes through
an `httpx.AsyncClient`. Request bodies go out byte for byte; only the gateway's credentials and
OpenRouter's attribution headers are added. Every failure becomes an `UpstreamError` whose status
is what the gateway's client should see:

==========================================  ======  ==============
upstream outcome                            status  kind
==========================================  ======  ==============
connection refused / DNS / TLS failure      503     ``connect``
connect or read timeout                     504     ``timeout``
closed the connection without answering     502     ``disconnected``
400, 404, 413, 422, 429 and other 4xx       same    ``status_4xx``
401, 402, 403 (the gateway's own key)       502     ``status_4xx``
503, 504                                    same    ``status_5xx``
other 5xx                                   502     ``status_5xx``
200 with an ``{"error": ...}`` body         code    as for status
200 whose body is not JSON, 1xx, 3xx        502     ``protocol``
stream ends without ``[DONE]``              502     ``stream_broken``
stream silent for ``stream_idle_timeout``   504     ``timeout``
==========================================  ======  ==============
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn

import httpx
import msgspec

from application.ports.upstream import StreamChunk, UpstreamError, UpstreamReply
from infrastructure.upstream.http1 import BadAnswer, ConnectFailed, Http1Pool
from infrastructure.upstream.sse import (
    SseSplitter,
    WireUsage,
    classify,
    error_message,
    parse_usage,
    warn_odd_usage,
)

__all__ = ["OpenRouterStream", "OpenRouterUpstream", "map_status_error", "map_transport_error"]

_USER_AGENT = "sluice-gateway"
_FINGERPRINT_PATHS = ("/chat/completions", "/completions")
_DONE_DRAIN_SECONDS = 1.0  # after [DONE], how long to wait for the body's end so the connection is reused
_ERROR_BODY_LIMIT = 1 << 20
_CREDENTIAL_MESSAGES = {
    401: "The gateway's upstream API key was rejected by the upstream (HTTP 401). "
    "Your own API key is fine; the gateway operator must fix the upstream credentials.",
    402: "The gateway's upstream account has run out of credit (HTTP 402). "
    "Your own API key is fine; the gateway operator must top up the upstream account.",
    403: "The upstream refused the gateway's credentials (HTTP 403). "
    "Your own API key is fine; the gateway operator must fix the upstream credentials.",
}


# ---- error mapping ---------------------------------------------------------------------------


def map_transport_error(exc: BaseException) -> UpstreamError:
    """An exception from sending a request or reading its answer, as the client should see it."""
    cause = exc.__cause__ if isinstance(exc, httpx.HTTPError) and exc.__cause__ is not None else exc
    detail = str(cause) or type(cause).__name__
    if isinstance(cause, ConnectFailed) or (
        isinstance(cause, httpx.ConnectError) and not isinstance(cause, httpx.TimeoutException)
    ):
        return UpstreamError(503, f"Could not connect to the upstream: {detail}", "connect")
    if isinstance(cause, (TimeoutError, httpx.TimeoutException)):
        return UpstreamError(504, "The upstream did not answer in time", "timeout")
    if isinstance(cause, (OSError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)):
        return UpstreamError(502, f"The upstream closed the connection: {detail}", "disconnected")
    return UpstreamError(502, f"Bad answer from the upstream: {detail}", "protocol")


def _upstream_message(body: bytes, status: int) -> str:
    """The message of an error body in OpenRouter's, OpenAI's, vLLM's or FastAPI's shape."""
    try:
        obj = msgspec.json.decode(body.strip() or b"null")
    except msgspec.DecodeError:
        text = body.strip()[:500].decode("utf-8", "replace")
        return text or f"The upstream answered HTTP {status}"
    if isinstance(obj, dict):
        if obj.get("error") is not None:
            message = error_message(msgspec.json.encode(obj["error"]))
            if message and message != "upstream error":
                return message
        for name in ("message", "detail"):
            value = obj.get(name)
            if isinstance(value, str) and value:
                return value
            if value:
                return msgspec.json.encode(value).decode()
    return f"The upstream answered HTTP {status}"


def _is_moderation_refusal(body: bytes) -> bool:
    """OpenRouter's 403 for flagged input is about the client's prompt, not the gateway's key."""
    try:
        obj = msgspec.json.decode(body.strip() or b"null")
    except msgspec.DecodeError:
        return False
    error = obj.get("error") if isinstance(obj, dict) else None
    metadata = error.get("metadata") if isinstance(error, dict) else None
    return isinstance(metadata, dict) and ("reasons" in metadata or "flagged_input" in metadata)


def map_status_error(status: int, body: bytes, message: str | None = None) -> UpstreamError:
    """A non-2xx upstream answer (or a 200 carrying an error with this code), as the client should see it."""
    if message is None:
        message = _upstream_message(body, status)
    if status in _CREDENTIAL_MESSAGES and not (status == 403 and _is_moderation_refusal(body)):
        return UpstreamError(502, _CREDENTIAL_MESSAGES[status], "status_4xx", body, upstream_status=status)
    if 400 <= status < 500:
        return UpstreamError(status, message, "status_4xx", body, upstream_status=status)
    if status in (503, 504):
        return UpstreamError(status, message, "status_5xx", body, upstream_status=status)
    if 500 <= status < 600:
        return UpstreamError(502, message, "status_5xx", body, upstream_status=status)
    message = f"Unexpected answer from the upstream (HTTP {status})"
    return UpstreamError(502, message, "protocol", body, upstream_status=status)


# ---- reading a finished body -----------------------------------------------------------------


class _Reply(msgspec.Struct):
    usage: WireUsage | None = None
    error: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    system_fingerprint: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    model: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # decoded only to name it in a warning


_decode_reply = msgspec.json.Decoder(_Reply).decode
_decode_any = msgspec.json.Decoder().decode


def _error_status(raw_error: bytes) -> int:
    try:
        error = _decode_any(raw_error)
    except msgspec.DecodeError:
        return 502
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code < 600:
        return code
    return 502


def _reply_error(raw_error: bytes, body: bytes) -> UpstreamError | None:
    message = error_message(raw_error)
    if message is None:  # "error": null
        return None
    error = map_status_error(_error_status(raw_error), body, message)
    error.upstream_status = 200  # the code is the body's; the upstream itself answered 200
    return error


def _read_success(path: str, status: int, content: bytes, content_type: str) -> UpstreamReply:
    body = content.lstrip()  # OpenRouter keeps slow requests alive with leading whitespace
    try:
        reply = _decode_reply(body)
    except msgspec.ValidationError:
        return _read_success_loose(path, status, body, content_type)
    except msgspec.DecodeError:
        raise UpstreamError(502, "The upstream's answer is not valid JSON", "protocol", content) from None
    if reply.error is not msgspec.UNSET:
        error = _reply_error(bytes(reply.error), body)
        if error is not None:
            raise error
    usage = reply.usage.to_usage(reply.model) if reply.usage is not None else None
    if reply.system_fingerprint is msgspec.UNSET and path.endswith(_FINGERPRINT_PATHS):
        body = _with_fingerprint(body)
    return UpstreamReply(status, body, usage, content_type)


def _read_success_loose(path: str, status: int, body: bytes, content_type: str) -> UpstreamReply:
    """The same, for a body whose usage fields have unexpected types (or that is not an object)."""
    obj = _decode_any(body)
    if not isinstance(obj, dict):
        raise UpstreamError(502, "The upstream's answer is not a JSON object", "protocol", body)
    if obj.get("error") is not None:
        error = _reply_error(msgspec.json.encode(obj["error"]), body)
        if error is not None:
            raise error
    usage = None
    raw_usage = obj.get("usage")
    if isinstance(raw_usage, dict):
        cost = raw_usage.get("cost")
        usage = parse_usage(
            raw_usage.get("prompt_tokens"),
            raw_usage.get("completion_tokens"),
            None if cost is None else msgspec.Raw(msgspec.json.encode(cost)),
            obj.get("model"),
        )
    if "system_fingerprint" not in obj and path.endswith(_FINGERPRINT_PATHS):
        body = _with_fingerprint(body)
    return UpstreamReply(status, body, usage, content_type)


def _with_fingerprint(body: bytes) -> bytes:
    """Adds ``"system_fingerprint":null`` as the first member of a JSON object (OpenAI's SDKs expect it)."""
    if body[1:].lstrip()[:1] == b"}":
        return b'{"system_fingerprint":null' + body[1:]
    return b'{"system_fingerprint":null,' + body[1:]


def _media_type(headers: Any) -> str:
    return (headers.get("content-type") or "").partition(";")[0].strip().lower()


# ---- the adapter -----------------------------------------------------------------------------


class OpenRouterUpstream:
    """`Upstream` for OpenRouter or any OpenAI-compatible server at ``base_url`` (e.g. ``.../api/v1``).

    Timeouts, in seconds: ``timeout_connect`` to open a connection; ``timeout_read`` the longest
    silence while a non-streamed answer is awaited; ``first_byte_timeout`` how long a stream's response
    headers may take; ``stream_idle_timeout`` the longest silence inside a stream (OpenRouter sends
    keep-alive comments, so a silent stream is a dead one). ``transport`` sends every call through
    httpx on that transport (tests). ``trace_headers``, when given, adds the current trace's headers
    to each call (``traceparent``: tracing with SLUICE_OTEL_PROPAGATE_UPSTREAM=1); without it the
    headers are fixed.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout_connect: float = 5.0,
        timeout_read: float = 300.0,
        max_connections: int = 1000,
        first_byte_timeout: float = 60.0,
        stream_idle_timeout: float = 120.0,
        referer: str | None = None,
        title: str | None = None,
        keepalive_expiry: float = 4.0,
        transport: httpx.AsyncBaseTransport | None = None,
        trace_headers: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._trace_headers = trace_headers
        headers = {"User-Agent": _USER_AGENT}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if referer:
            headers["HTTP-Referer"] = referer
        if title:
            headers["X-Title"] = title
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
        )
        # The catalogue (and any transport given) goes through httpx; the calls the gateway
        # forwards take the lean pool (`http1.py`) unless a transport was given.
        self._pool = (
            Http1Pool(
                base_url,
                max_connections=max_connections,
                keepalive_expiry=keepalive_expiry,
                connect_timeout=timeout_connect,
            )
            if transport is None
            else None
        )
        self._transport = transport or httpx.AsyncHTTPTransport(limits=limits)
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(connect=timeout_connect, read=timeout_read, write=timeout_read, pool=None),
            limits=limits,
            transport=self._transport,
            follow_redirects=False,
            trust_env=False,
        )
        self._timeout_read = timeout_read
        self._stream_idle_timeout = stream_idle_timeout
        self._stream_timeout = httpx.Timeout(
            connect=timeout_connect, read=stream_idle_timeout, write=timeout_read, pool=None
        )
        # The header wait is already bounded by the idle timeout; a shorter first-byte limit needs its own.
        self._first_byte_timeout = first_byte_timeout if first_byte_timeout < stream_idle_timeout else None
        self._json_headers = {**headers, "Content-Type": "application/json", "Accept-Encoding": "identity"}
        self._sse_headers = {**self._json_headers, "Accept": "text/event-stream"}
        self._json_block = Http1Pool.header_block(self._json_headers)
        self._sse_block = Http1Pool.header_block(self._sse_headers)
        self._hot_extensions = {
            "timeout": {"connect": timeout_connect, "read": timeout_read, "write": timeout_read, "pool": None}
        }
        self._urls: dict[str, httpx.URL] = {}

    @property
    def base_url(self) -> str:
        return self._base

    async def complete(self, path: str, body: bytes) -> UpstreamReply:
        if self._pool is not None:
            return await self._complete_on_pool(self._pool, path, body)
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = httpx.URL(self._base + path)
        headers = self._json_headers if self._trace_headers is None else self._traced(self._json_headers)
        request = httpx.Request("POST", url, content=body, headers=headers, extensions=self._hot_extensions)
        try:
            response = await self._transport.handle_async_request(request)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            raise map_transport_error(exc) from exc
        status = response.status_code
        if not 200 <= status < 300:
            raise map_status_error(status, content)
        return _read_success(path, status, content, response.headers.get("content-type") or "application/json")

    async def _complete_on_pool(self, pool: Http1Pool, path: str, body: bytes) -> UpstreamReply:
        headers = self._json_block if self._trace_headers is None else self._traced_block(self._json_headers)
        try:
            status, answer_headers, content = await pool.post(path, headers, body, read_timeout=self._timeout_read)
        except (BadAnswer, TimeoutError, OSError) as exc:
            raise map_transport_error(exc) from exc
        if not 200 <= status < 300:
            raise map_status_error(status, content)
        return _read_success(path, status, content, answer_headers.get("content-type") or "application/json")

    async def stream(self, path: str, body: bytes) -> OpenRouterStream:
        if self._pool is not None:
            return await self._stream_on_pool(self._pool, path, body)
        headers = self._sse_headers if self._trace_headers is None else self._traced(self._sse_headers)
        request = self._client.build_request(
            "POST", self._base + path, content=body, headers=headers, timeout=self._stream_timeout
        )
        try:
            async with asyncio.timeout(self._first_byte_timeout):
                response = await self._client.send(request, stream=True)
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            raise map_transport_error(exc) from exc
        status = response.status_code
        if not 200 <= status < 300 or _media_type(response.headers) != "text/event-stream":
            content = await self._read_error_body(response.aiter_bytes(), response.aclose)
            _refuse_stream(path, status, content)
        encoding = response.headers.get("content-encoding", "").strip().lower()
        chunks = response.aiter_raw() if encoding in ("", "identity") else response.aiter_bytes()

        async def close() -> None:
            aclose_chunks = getattr(chunks, "aclose", None)
            if aclose_chunks is not None:
                try:
                    await aclose_chunks()
                except RuntimeError:
                    pass  # being iterated by another task: closing the response below ends that too
            await response.aclose()

        return OpenRouterStream(status, chunks, close)

    async def _stream_on_pool(self, pool: Http1Pool, path: str, body: bytes) -> OpenRouterStream:
        headers = self._sse_block if self._trace_headers is None else self._traced_block(self._sse_headers)
        try:
            answer = await pool.open_stream(
                path, headers, body, read_timeout=self._stream_idle_timeout, head_timeout=self._first_byte_timeout
            )
        except (BadAnswer, TimeoutError, OSError) as exc:
            raise map_transport_error(exc) from exc
        status = answer.status
        if not 200 <= status < 300 or _media_type(answer.headers) != "text/event-stream":
            try:
                content = await answer.read(_ERROR_BODY_LIMIT)
            except (BadAnswer, TimeoutError, OSError) as exc:
                raise map_transport_error(exc) from exc
            _refuse_stream(path, status, content)

        async def close() -> None:
            answer.close()  # before the end, it hangs up; a finished answer's connection is pooled already

        return OpenRouterStream(status, answer, close)

    def _traced_block(self, headers: dict[str, str]) -> bytes:
        return Http1Pool.header_block(self._traced(headers))

    def _traced(self, headers: dict[str, str]) -> dict[str, str]:
        assert self._trace_headers is not None
        traced = dict(headers)
        self._trace_headers(traced)
        return traced

    async def list_models(self, path: str) -> bytes:
        try:
            response = await self._client.get(self._base + path)
        except (httpx.HTTPError, BadAnswer, TimeoutError, OSError) as exc:
            raise map_transport_error(exc) from exc
        if not 200 <= response.status_code < 300:
            raise map_status_error(response.status_code, response.content)
        return response.content

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
        await self._client.aclose()

    @staticmethod
    async def _read_error_body(chunks: AsyncIterator[bytes], close: Callable[[], Awaitable[None]]) -> bytes:
        parts: list[bytes] = []
        size = 0
        try:
            async for chunk in chunks:
                parts.append(chunk)
                size += len(chunk)
                if size >= _ERROR_BODY_LIMIT:
                    break
        except (httpx.HTTPError, BadAnswer, TimeoutError, OSError) as exc:
            if not parts:
                raise map_transport_error(exc) from exc
        finally:
            await close()
        return b"".join(parts)


def _refuse_stream(path: str, status: int, content: bytes) -> NoReturn:
    """A streaming request answered with an error, or without a stream."""
    if not 200 <= status < 300:
        raise map_status_error(status, content)
    # Not a stream: OpenRouter's whitespace-then-error answer, or a server that ignored "stream".
    _read_success(path, status, content, "application/json")  # raises the error it carries
    raise UpstreamError(502, "The upstream answered a streaming request without a stream", "protocol", content)


class OpenRouterStream:
    """An open SSE answer: iterate for `StreamChunk`s as the bytes arrive (or take them in the groups
    they arrived in, `batches`); `aclose` hangs up.

    Frames after ``[DONE]`` are not delivered. The stream ending without ``[DONE]`` raises
    ``UpstreamError(502, ..., "stream_broken")``; a mid-stream ``error`` frame is an ordinary frame
    (with ``error`` set), for the client to see.
    """

    __slots__ = (
        "_chunks", "_close", "_closed", "_done", "_eof", "_frames", "_odd_usage_reported", "_splitter", "status",
    )  # fmt: skip

    def __init__(self, status: int, chunks: AsyncIterator[bytes], close: Callable[[], Awaitable[None]]) -> None:
        """`chunks`: the body as it arrives, decoded; `close`: ends the response (hangs up before its end)."""
        self.status = status
        self._chunks = chunks
        self._close = close
        self._splitter = SseSplitter()
        self._frames: deque[StreamChunk] = deque()
        self._done = False  # [DONE] seen
        self._eof = False  # the body ended
        self._closed = False
        self._odd_usage_reported = False

    def __aiter__(self) -> OpenRouterStream:
        return self

    async def __anext__(self) -> StreamChunk:
        frames = self._frames
        while not frames:
            frames.extend(await self._next_batch())
        return frames.popleft()

    def batches(self) -> _Batches:
        return _Batches(self)

    async def _next_batch(self) -> list[StreamChunk]:
        while True:
            if self._done or self._closed:
                if self._done and not self._closed:
                    await self._drain()
                raise StopAsyncIteration
            if self._eof:
                raise StopAsyncIteration
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._eof = True
                if not self._done:
                    raise UpstreamError(502, "upstream stream ended early", "stream_broken") from None
                raise
            except (httpx.HTTPError, BadAnswer, TimeoutError, OSError) as exc:
                self._eof = True
                if self._closed:
                    raise StopAsyncIteration from None
                error = map_transport_error(exc)
                if error.kind == "timeout":
                    raise UpstreamError(504, "The upstream stream stalled", "timeout") from exc
                raise UpstreamError(502, "upstream stream ended early", "stream_broken") from exc
            batch = []
            for raw in self._splitter.feed(chunk):
                frame = classify(raw, self._report_odd_usage)
                batch.append(frame)
                if frame.last:
                    self._done = True
                    break
            if batch:
                return batch

    def _report_odd_usage(self, model: object, notes: tuple[str, ...]) -> None:
        """Once per stream: an upstream that repeats usage on every frame would otherwise flood the log."""
        if not self._odd_usage_reported:
            self._odd_usage_reported = True
            warn_odd_usage(model, notes)

    async def _drain(self) -> None:
        """Reads what follows [DONE] (normally just the body's end) so the connection can be reused."""
        if self._eof:
            return
        try:
            async with asyncio.timeout(_DONE_DRAIN_SECONDS):
                async for _ in self._chunks:
                    pass
            self._eof = True
        except (httpx.HTTPError, BadAnswer, TimeoutError, OSError):
            pass

    async def aclose(self) -> None:
        """Closes the upstream response; before its end, that closes the connection (the upstream sees the abort)."""
        if self._closed:
            return
        if self._done and not self._eof:
            await self._drain()
        self._closed = True
        await self._close()


class _Batches:
    __slots__ = ("_stream",)

    def __init__(self, stream: OpenRouterStream) -> None:
        self._stream = stream

    def __aiter__(self) -> _Batches:
        return self

    def __anext__(self) -> Awaitable[list[StreamChunk]]:
        return self._stream._next_batch()
