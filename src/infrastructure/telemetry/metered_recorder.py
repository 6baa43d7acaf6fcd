from application.ports.usage import UsageRecorder
from domain.usage import UsageRecord
from infrastructure.telemetry.prometheus import PrometheusTelemetry


class MeteredUsageRecorder:
    """Counts tokens and cost as records pass on to the real recorder."""

    def __init__(self, inner: UsageRecorder, telemetry: PrometheusTelemetry) -> None:
        self._inner = inner
        self._telemetry = telemetry

    def record(self, record: UsageRecord) -> None:
        self._telemetry.usage_recorded(record)
        self._inner.record(record)

    async def flush(self) -> None:
        await self._inner.flush()
