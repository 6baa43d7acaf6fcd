"""The `Upstream` port, timed and counted: every call's latency, a stream's first token, every failure.

One decorator around whichever upstream adapter serves, so that every API family and every call
(an image request's parallel calls, a plan's input moderation) is observed the same way, failed
calls included: the upstream-down alert reads the failures, the overhead histogram the time
spent waiting here. The request's `Observation` learns when it first waited on the upstream and
when the answer (a stream's head) came, which is how gateway overhead is told from upstream time.
"""

import time
from collections.abc import AsyncIterator

from application import observation
from application.ports.upstream import Frames, StreamChunk, Upstream, UpstreamError, UpstreamReply, UpstreamStream
from infrastructure.telemetry.prometheus import PrometheusTelemetry

_now = time.perf_counter
_BY_PATH = {"/chat/completions": "chat", "/embeddings": "embeddings", "/moderations": "moderations"}


def _endpoint(path: str) -> str:
    found = _BY_PATH.get(path)
    if found == "chat":
        obs = observation.current()
        if obs is not None and obs.endpoint == "images":
            return "images"  # an image is made by a chat call: it is the images endpoint's latency
    return found or "other"


class ObservedUpstream:
    def __init__(self, inner: Upstream, telemetry: PrometheusTelemetry) -> None:
        self._inner = inner
        self._telemetry = telemetry

    async def complete(self, path: str, body: bytes) -> UpstreamReply:
        obs = observation.current()
        began = obs.upstream_call_began() if obs is not None else _now()
        try:
            return await self._inner.complete(path, body)
        except UpstreamError as error:
            self._telemetry.upstream_error(error.kind)
            raise
        finally:
            if obs is not None:
                obs.upstream_call_answered()
            self._telemetry.upstream_call(_endpoint(path), _now() - began)

    async def stream(self, path: str, body: bytes) -> UpstreamStream:
        obs = observation.current()
        began = obs.upstream_call_began() if obs is not None else _now()
        endpoint = _endpoint(path)
        try:
            inner = await self._inner.stream(path, body)
        except UpstreamError as error:
            self._telemetry.upstream_error(error.kind)
            raise
        finally:
            if obs is not None:
                obs.upstream_call_answered()
            self._telemetry.upstream_call(endpoint, _now() - began)
        return _ObservedStream(inner, self._telemetry, endpoint, began, obs)

    async def list_models(self, path: str) -> bytes:
        return await self._inner.list_models(path)


class _ObservedStream:
    """Relays the chunks as they are; notes the first one that carries output, and a broken stream."""

    __slots__ = ("_began", "_endpoint", "_inner", "_iterator", "_obs", "_telemetry", "_waiting")

    def __init__(
        self,
        inner: UpstreamStream,
        telemetry: PrometheusTelemetry,
        endpoint: str,
        began: float,
        obs: observation.Observation | None,
    ) -> None:
        self._inner = inner
        self._iterator: AsyncIterator[StreamChunk] = inner.__aiter__()
        self._telemetry = telemetry
        self._endpoint = endpoint
        self._began = began
        self._obs = obs
        self._waiting = True  # for the first token

    def __aiter__(self) -> "_ObservedStream":
        return self

    async def __anext__(self) -> StreamChunk:
        try:
            chunk = await self._iterator.__anext__()
        except UpstreamError as error:
            self._telemetry.upstream_error(error.kind)
            raise
        if self._waiting and chunk.content_chars:
            self._first_token()
        return chunk

    def batches(self) -> "_ObservedBatches":
        return _ObservedBatches(self, self._inner.batches())

    def _first_token(self) -> None:
        self._waiting = False
        seconds = _now() - self._began
        self._telemetry.first_token(self._endpoint, seconds)
        if self._obs is not None:
            self._obs.first_token_seconds = seconds

    async def aclose(self) -> None:
        await self._inner.aclose()


class _ObservedBatches:
    """`_ObservedStream.batches`: an iterator object, not a generator, so that a reader that stops
    at [DONE] leaves nothing for the loop to finalize."""

    __slots__ = ("_batches", "_stream")

    def __init__(self, stream: _ObservedStream, batches: AsyncIterator[Frames]) -> None:
        self._stream = stream
        self._batches = batches

    def __aiter__(self) -> "_ObservedBatches":
        return self

    async def __anext__(self) -> Frames:
        stream = self._stream
        try:
            frames = await self._batches.__anext__()
        except UpstreamError as error:
            stream._telemetry.upstream_error(error.kind)
            raise
        if stream._waiting and any(frame.content_chars for frame in frames):
            stream._first_token()
        return frames
