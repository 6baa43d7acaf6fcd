"""A metered streaming model call: events are relayed as they come; settlement survives disconnects."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

from application.background import BackgroundTasks
from application.gateway_request import GatewayRequest
from application.metering import Admission, Meter
from application.ports.upstream import Frames, Upstream, UpstreamError, UpstreamStream
from application.principal import Principal
from domain.pricing import Usage
from domain.rate_policy import Decision
from domain.usage import Outcome


@dataclass(frozen=True, slots=True)
class StreamBroken:
    """The last event of a stream the upstream broke off: the family tells its caller in its own shape."""

    error: UpstreamError


# The frames of one read from the upstream, passed on together (one write to the client), or the break.
StreamEvent = Frames | StreamBroken


@dataclass(frozen=True, slots=True)
class Relayed:
    """Exactly one of `events` and `error` is set; `error` means nothing was sent yet."""

    request_id: str
    decision: Decision | None
    events: AsyncIterator[StreamEvent] | None = None
    error: UpstreamError | None = None


class StreamModelRequest:
    def __init__(self, meter: Meter, upstream: Upstream, tasks: BackgroundTasks) -> None:
        self._meter = meter
        self._upstream = upstream
        self._tasks = tasks

    async def execute(self, principal: Principal, request: GatewayRequest) -> Relayed:
        admission = await self._meter.admit(principal, request)
        try:
            stream = await self._upstream.stream(request.upstream_path, admission.request.body)
        except UpstreamError as error:
            self._tasks.spawn(self._meter.settle(admission, outcome=Outcome.UPSTREAM_ERROR, http_status=error.status))
            return Relayed(admission.request_id, admission.decision, error=error)
        except BaseException:
            # Cancelled, or failed in a way no upstream error names: nothing was served, release it.
            self._tasks.spawn(self._meter.settle(admission, outcome=Outcome.UPSTREAM_ERROR, http_status=499))
            raise
        events = self._relay(admission, stream)
        # Runs the relay to its first yield, inside its try: from here on, closing the events, even
        # before the response started, still closes the upstream and settles.
        await anext(events)
        return Relayed(admission.request_id, admission.decision, events=events)

    async def _relay(self, admission: Admission, stream: UpstreamStream) -> AsyncIterator[StreamEvent]:
        usage: Usage | None = None
        chars = 0
        outcome = Outcome.CLIENT_DISCONNECTED
        try:
            yield ()  # the priming step taken by `execute`; never reaches a family
            async for frames in stream.batches():
                for chunk in frames:
                    if chunk.usage is not None:
                        usage = chunk.usage
                    chars += chunk.content_chars
                yield frames
                if frames[-1].last:
                    break
            outcome = Outcome.OK
        except UpstreamError as error:
            outcome = Outcome.STREAM_BROKEN
            yield StreamBroken(error)
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
