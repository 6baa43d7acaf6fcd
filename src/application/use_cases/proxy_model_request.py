"""A metered, non-streaming model call: admit, forward, settle."""

from dataclasses import dataclass

from application.background import BackgroundTasks
from application.gateway_request import GatewayRequest
from application.metering import Meter, Settlement
from application.ports.upstream import Upstream, UpstreamError, UpstreamReply
from application.principal import Principal
from domain.rate_policy import Decision
from domain.usage import Outcome


@dataclass(frozen=True, slots=True)
class Proxied:
    """Exactly one of `reply` and `error` is set."""

    request_id: str
    decision: Decision | None
    reply: UpstreamReply | None = None
    error: UpstreamError | None = None
    settlement: Settlement | None = None  # when the caller asked to wait for it


class ProxyModelRequest:
    def __init__(self, meter: Meter, upstream: Upstream, tasks: BackgroundTasks) -> None:
        self._meter = meter
        self._upstream = upstream
        self._tasks = tasks

    async def execute(self, principal: Principal, request: GatewayRequest, *, settled: bool = False) -> Proxied:
        """`settled`: settle before answering, for families whose answer states the charge."""
        admission = await self._meter.admit(principal, request)
        try:
            reply = await self._upstream.complete(request.upstream_path, admission.request.body)
        except UpstreamError as error:
            self._tasks.spawn(self._meter.settle(admission, outcome=Outcome.UPSTREAM_ERROR, http_status=error.status))
            return Proxied(admission.request_id, admission.decision, error=error)
        except BaseException:
            # Cancelled (nobody will read the answer) or failed in a way no upstream error names:
            # either way nothing was served, and the reservation must not stay held.
            self._tasks.spawn(self._meter.settle(admission, outcome=Outcome.UPSTREAM_ERROR, http_status=499))
            raise
        settle = self._meter.settle(admission, outcome=Outcome.OK, http_status=reply.status, usage=reply.usage)
        if settled:
            return Proxied(admission.request_id, admission.decision, reply=reply, settlement=await settle)
        # Settlement runs beside the response so a ledger write never delays the client.
        self._tasks.spawn(settle)
        return Proxied(admission.request_id, admission.decision, reply=reply)
