import logging

from application.ports.usage import UsageRecorder
from domain.usage import UsageRecord
from infrastructure.telemetry.prometheus import PrometheusTelemetry

log = logging.getLogger("sluice.telemetry")


class MeteredUsageRecorder:
    """Counts tokens and cost as records pass on to the real recorder.

    The record is handed on first and counted after, and a failure to count is only logged: a
    metric must never cost a usage record (a negative cost once raised here and the record was lost).
    """

    def __init__(self, inner: UsageRecorder, telemetry: PrometheusTelemetry) -> None:
        self._inner = inner
        self._telemetry = telemetry

    def record(self, record: UsageRecord) -> None:
        self._inner.record(record)
        try:
            self._telemetry.usage_recorded(record)
        except Exception:
            log.exception("metrics: counting usage record %s failed", record.id)

    async def flush(self) -> None:
        await self._inner.flush()
