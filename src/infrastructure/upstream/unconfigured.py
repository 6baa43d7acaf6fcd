"""An `Upstream` that is not there: every call answers 503 with the message saying what to configure.

The composition root puts one where an optional upstream has no credentials (moderation without
SLUICE_MODERATION_API_KEY), so the gateway still starts and only the calls that need it fail, clearly.
"""

from application.ports.upstream import UpstreamError, UpstreamReply, UpstreamStream

UNCONFIGURED = "unconfigured"  # the UpstreamError kind, for metrics


class UnconfiguredUpstream:
    def __init__(self, message: str) -> None:
        self._message = message

    def _error(self) -> UpstreamError:
        return UpstreamError(503, self._message, UNCONFIGURED)

    async def complete(self, path: str, body: bytes) -> UpstreamReply:
        raise self._error()

    async def stream(self, path: str, body: bytes) -> UpstreamStream:
        raise self._error()

    async def list_models(self, path: str) -> bytes:
        raise self._error()

    async def aclose(self) -> None:
        return None
