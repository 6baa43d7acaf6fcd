"""What one finished request leaves behind: its metrics, and one line in the request log.

The line is structured (its fields go to the JSON formatter as they are, see
`interfaces/logging_setup.py`) and names no secret by construction: the request id (the
``X-Request-Id`` the client saw), the account id, never a key, a header or a query string. The
request body is there only when an operator turned content logging on.
"""

import logging

from application.observation import Observation
from infrastructure.telemetry.prometheus import PrometheusTelemetry

log = logging.getLogger("sluice.request")
_CONTENT_LIMIT = 16 * 1024  # of the request body, when content logging is on


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def request_fields(o: Observation) -> dict[str, object]:
    fields: dict[str, object] = {
        "request_id": o.request_id,
        "method": o.method,
        "path": o.path,
        "account_id": o.account_id,
        "family": o.family,
        "endpoint": o.endpoint,
        "model": o.model,
        "plan": o.plan,
        "status": o.status,
        "prompt_tokens": o.prompt_tokens,
        "completion_tokens": o.completion_tokens,
        "cost_microusd": o.cost_micros,
        "charged_microusd": o.charged_micros,
        "latency_ms": _ms(o.total_seconds),
        "head_ms": _ms(o.head_seconds),
        "upstream_ms": _ms(o.upstream_seconds),
        "overhead_ms": _ms(o.overhead_seconds),
    }
    if o.streamed:
        fields["stream"] = True
        fields["ttft_ms"] = _ms(o.first_token_seconds)
    if o.outcome is not None:
        fields["outcome"] = o.outcome
    if o.limited_bucket is not None:
        fields["rate_limited"] = o.limited_bucket
    if o.content is not None:
        fields["content"] = o.content[:_CONTENT_LIMIT].decode("utf-8", "replace")
    return fields


class RequestReport:
    """The edge's `RequestReporter`: Prometheus, then the request log (when it is on)."""

    def __init__(self, telemetry: PrometheusTelemetry, *, log_requests: bool = True) -> None:
        self._telemetry = telemetry
        self._log_requests = log_requests
        self.request_started = telemetry.request_started
        self.request_ended = telemetry.request_ended
        self.stream_opened = telemetry.stream_opened
        self.stream_closed = telemetry.stream_closed

    def report(self, o: Observation) -> None:
        self._telemetry.report(o)
        if not self._log_requests:
            return
        # Probes and scrapes arrive every few seconds from machines: kept out of the INFO log.
        level = logging.DEBUG if o.family == "ops" else logging.INFO
        if not log.isEnabledFor(level):
            return
        try:
            # The record made directly: `log.log` would walk the stack for a caller nobody reads.
            fields = {"fields": request_fields(o)}
            record = log.makeRecord(log.name, level, __file__, 0, "request", (), None, extra=fields)
            log.handle(record)
        except Exception:
            logging.getLogger("sluice.telemetry").exception("logging request %s failed", o.request_id)
