"""Errors in Google's shape: ``{"error": {"code": <HTTP status>, "message": ..., "status": <canonical name>}}``.

``code`` stays the HTTP status the gateway answers with; ``status`` is the google.rpc.Code name a
Gemini client expects beside it. Where HTTP and Google's table disagree we chose:

- 402 (out of credits, spend cap) -> RESOURCE_EXHAUSTED: the nearest canonical code for a used-up
  quota. Google has no 402; clients that retry do so on the HTTP code (429/5xx), not on this name.
- 413 (body too large) -> INVALID_ARGUMENT: what Google answers for an oversized payload (as a 400).
- a 4xx not in the table -> INVALID_ARGUMENT, a 5xx -> INTERNAL, anything else UNKNOWN.
"""

from __future__ import annotations

import msgspec

GOOGLE_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    402: "RESOURCE_EXHAUSTED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    412: "FAILED_PRECONDITION",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_encode = msgspec.json.encode


def google_status(http_status: int) -> str:
    """The google.rpc.Code name for an HTTP status."""
    name = GOOGLE_STATUS.get(http_status)
    if name is not None:
        return name
    if 400 <= http_status < 500:
        return "INVALID_ARGUMENT"
    if 500 <= http_status < 600:
        return "INTERNAL"
    return "UNKNOWN"


def gemini_error_body(http_status: int, message: str) -> bytes:
    """The JSON body of a Gemini API error. Mid-stream, send it as one more SSE event or array element:
    google-genai raises ``APIError`` on any streamed chunk that begins with ``{"error":``."""
    return _encode({"error": {"code": http_status, "message": message, "status": google_status(http_status)}})
