"""Relaying an upstream stream to an OpenAI client: the upstream's events as they came."""

import json
from collections.abc import AsyncIterator

from application.use_cases.stream_model_request import StreamBroken, StreamEvent
from interfaces.http.event_stream import LastPart


def error_frame(message: str, status: int) -> bytes:
    body = {"error": {"message": message, "type": "upstream_error", "code": status}}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


async def sse_body(events: AsyncIterator[StreamEvent], wants_usage: bool) -> AsyncIterator[bytes]:
    """The bytes of each event untouched, the events of one upstream read in one write; the usage
    report only to a client that asked for it (metering always asks the upstream for one)."""
    try:
        async for event in events:
            if isinstance(event, StreamBroken):
                yield error_frame(event.error.message, event.error.status)
            elif len(event) == 1 and not event[0].last:
                if wants_usage or not event[0].report_only:
                    yield event[0].raw
            else:
                body = b"".join([chunk.raw for chunk in event if wants_usage or not chunk.report_only])
                if event[-1].last:
                    yield LastPart(body)  # [DONE] is in it: the response ends with this write
                elif body:
                    yield body
    finally:
        # Closing here (not at garbage collection) settles a disconnected stream at once.
        await events.aclose()  # type: ignore[attr-defined]
