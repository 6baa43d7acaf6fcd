"""A metered streaming model call: frames are relayed as they come; settlement survives disconnects."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from application.background import BackgroundTasks
from application.gateway_request import GatewayRequest
from application.metering import Admission, Meter
from application.ports.upstream import Upstream, UpstreamError, UpstreamStream
from application.principal import Principal
from domain.pricing import Usage
from domain.rate_policy import Decision
from domain.usage import Outcome


@dataclass(frozen=True, slots=True)
class Relayed:
    """Exactly one of `frames` and `error` is set; `error` means nothing was sent yet."""

    request_id: str
    decision: Decision | None
    frames: AsyncIterator[bytes] | None = None
    error: UpstreamError | None = None


def error_frame(message: str, status: int) -> bytes:
    body = {"error": {"message": message, "type": "upstream_error", "code": status}}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class StreamModelRequest:
    def __init__(self, meter: Meter, upstream: Upstream, tasks: BackgroundTasks) -> None:
        self._meter = meter
        self._upstream = upstream
        self._tasks = tasks

    async def execute(self, principal: Principal, request: GatewayRequest) -> Relayed:
        admission = await self._meter.admit(principal, request)
        try:
            stream = await self._upstream.stream(request.upstream_path, request.body)
        except UpstreamError as error:
            self._tasks.spawn(self._meter.settle(admission, outcome=Outcome.UPSTREAM_ERROR, http_status=error.status))
            return Relayed(admission.request_id, admission.decision, error=error)
        except BaseException:
            # Cancelled, or failed in a way no upstream error names: nothing was served, release it.
            self._tasks.spawn(self._meter.settle(admission, outcome=Outcome.UPSTREAM_ERROR, http_status=499))
            raise
        frames = self._relay(admission, stream, request.client_wants_usage)
        # Runs the relay to its first yield, inside its try: from here on, closing the frames, even
        # before the response started, still closes the upstream and settles.
        await anext(frames)
        return Relayed(admission.request_id, admission.decision, frames=frames)

    async def _relay(self, admission: Admission, stream: UpstreamStream, wants_usage: bool) -> AsyncIterator[bytes]:
        usage: Usage | None = None
        chars = 0
        outcome = Outcome.CLIENT_DISCONNECTED
        try:
            yield b""  # the priming step taken by `execute`; never sent to the client
            async for frame in stream:
                if frame.usage is not None:
                    usage = frame.usage
                chars += frame.content_chars
                if frame.usage_only and not wants_usage:
                    continue
                yield frame.raw
                if frame.done:
                    break
            outcome = Outcome.OK
        except UpstreamError as error:
            outcome = Outcome.STREAM_BROKEN
            yield error_frame(error.message, error.status)
        finally:
            # Runs on normal end, on upstream failure, and when the client goes away (the
            # generator is closed or cancelled): closing and billing must not be cancelled too.
            self._tasks.spawn(self._finish(admission, stream, outcome, usage, chars))

    async def _finish(
        self, admission: Admission, stream: UpstreamStream, outcome: Outcome, usage: Usage | None, chars: int
    ) -> None:
        try:
            await stream.aclose()
        finally:
            status = 200 if outcome is Outcome.OK else 499 if outcome is Outcome.CLIENT_DISCONNECTED else 502
            await self._meter.settle(admission, outcome=outcome, http_status=status, usage=usage, generated_chars=chars)
