from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.catalog import ModelInfo
from domain.pricing import Usage


@dataclass(frozen=True, slots=True)
class UpstreamReply:
    """A finished (non-streaming) upstream answer, body already in the client's wire format."""

    status: int
    body: bytes
    usage: Usage | None
    content_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """One event of an upstream stream as it arrived, with what metering needs read off it.

    A family that relays passes `raw` on untouched; one that translates reads it in its own terms.
    """

    raw: bytes  # the whole event, as received
    usage: Usage | None = None  # set on the event that reports usage
    report_only: bool = False  # the event carries the usage report and nothing for the caller
    content_chars: int = 0  # generated characters in this event, for billing a cut-off stream
    error: str | None = None  # an error the upstream reported mid-stream
    last: bool = False  # the upstream's end-of-stream marker: nothing follows


class UpstreamError(Exception):
    """The upstream failed. `status` is what the client should see; `kind` is for metrics.

    `upstream_status` is the HTTP status the upstream itself answered, when it answered one (traces).
    """

    def __init__(
        self, status: int, message: str, kind: str, body: bytes | None = None, *, upstream_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.body = body
        self.upstream_status = upstream_status


Frames = Sequence[StreamChunk]


class UpstreamStream(Protocol):
    def __aiter__(self) -> AsyncIterator[StreamChunk]: ...

    def batches(self) -> AsyncIterator[Frames]:
        """The same events, grouped as they arrived: one non-empty group per read from the network.

        A relay passes a group on in one write, so a burst of frames costs one send, not one each.
        """
        ...

    async def aclose(self) -> None:
        """Closes the upstream request (called when the client goes away)."""
        ...


class Upstream(Protocol):
    async def complete(self, path: str, body: bytes) -> UpstreamReply:
        """POSTs a JSON body; raises UpstreamError on failure (never returns an error body)."""
        ...

    async def stream(self, path: str, body: bytes) -> UpstreamStream:
        """Opens an SSE stream; raises UpstreamError when it cannot be opened."""
        ...

    async def list_models(self, path: str) -> bytes:
        """The upstream's model list as it sent it."""
        ...


class ModelCatalog(Protocol):
    async def get(self, model_id: str) -> ModelInfo | None:
        """None when the upstream does not list the model (or the catalogue is unreachable)."""
        ...

    async def listing(self, kind: str) -> bytes | None:
        """The cached raw list for `kind` ("models" or "embeddings"), for GET /models.

        None when no list could be loaded yet (and none is cached): the catalogue is unavailable,
        which is not the same as an empty list. A stale list is served while a refresh fails.
        """
        ...

    async def models(self, kind: str) -> list[ModelInfo] | None:
        """The models of `kind` ("models" or "embeddings") the gateway serves, in the upstream's order.

        None when the catalogue is unavailable, as for `listing`.
        """
        ...

    async def known(self) -> bool:
        """Whether a catalogue could be loaded at all (an unknown model is only a 404 if so)."""
        ...
