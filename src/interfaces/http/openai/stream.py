"""Relaying an upstream stream to an OpenAI client: the upstream's events as they came."""

import json
from collections.abc import AsyncIterator

from application.ports.upstream import StreamChunk
from application.use_cases.stream_model_request import StreamBroken, StreamEvent


def error_frame(message: str, status: int) -> bytes:
    body = {"error": {"message": message, "type": "upstream_error", "code": status}}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


async def sse_body(events: AsyncIterator[StreamEvent], wants_usage: bool) -> AsyncIterator[bytes]:
    """The bytes of each event untouched; the usage report only to a client that asked for it
    (metering always asks the upstream for one)."""
    try:
        async for event in events:
            if event.__class__ is StreamChunk:
                if wants_usage or not event.report_only:  # type: ignore[union-attr]
                    yield event.raw  # type: ignore[union-attr]
            elif isinstance(event, StreamBroken):
                yield error_frame(event.error.message, event.error.status)
    finally:
        # Closing here (not at garbage collection) settles a disconnected stream at once.
        await events.aclose()  # type: ignore[attr-defined]
