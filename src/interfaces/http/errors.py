"""Every error leaves in the OpenAI shape: {"error": {"message", "type", "code", "param"}}."""

import logging
import math

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

from application.ports.upstream import UpstreamError
from domain import errors as e
from interfaces.http.rate_headers import rate_headers

log = logging.getLogger("sluice.http")

_DOMAIN_STATUS: dict[type[e.DomainError], tuple[int, str]] = {
    e.InvalidRequest: (400, "invalid_request_error"),
    e.TooManyKeys: (400, "invalid_request_error"),
    e.AuthenticationFailed: (401, "authentication_error"),
    e.InsufficientCredits: (402, "insufficient_quota"),
    e.SpendCapReached: (402, "insufficient_quota"),
    e.AccountBanned: (403, "permission_error"),
    e.ModelNotAllowed: (403, "permission_error"),
    e.UnknownModel: (404, "not_found_error"),
    e.NotFound: (404, "not_found_error"),
    e.Conflict: (409, "conflict_error"),
    e.RateLimited: (429, "rate_limit_error"),
}

_HTTP_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "internal_server_error",
    502: "upstream_error",
    503: "service_unavailable_error",
    504: "timeout_error",
}


def error_body(message: str, type_: str, code: str | int | None = None, param: str | None = None) -> bytes:
    return msgspec.json.encode({"error": {"message": message, "type": type_, "code": code, "param": param}})


def error_response(
    status: int, message: str, code: str | int | None = None, param: str | None = None, headers: dict | None = None
) -> Response[bytes]:
    type_ = _HTTP_TYPES.get(status, "upstream_error" if status >= 500 else "invalid_request_error")
    return Response(
        error_body(message, type_, code, param), status_code=status, media_type="application/json", headers=headers
    )


def upstream_error_response(error: UpstreamError, headers: dict | None = None) -> Response[bytes]:
    # OpenRouter's numeric code rides along in `code`, as its own clients expect.
    return error_response(error.status, error.message, code=error.status, headers=headers)


def domain_error_handler(_: Request, exc: e.DomainError) -> Response[bytes]:
    status, type_ = _DOMAIN_STATUS.get(type(exc), (400, "invalid_request_error"))
    headers: dict[str, str] | None = None
    param = getattr(exc, "param", None)
    if isinstance(exc, e.RateLimited):
        headers = rate_headers(exc.decision)
        headers["Retry-After"] = str(max(1, math.ceil(exc.decision.retry_after)))
    return Response(
        error_body(exc.message, type_, exc.code, param),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def http_exception_handler(_: Request, exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    message = exc.detail or "error"
    if status == 404:
        message = "Not Found: no such route"
    elif status == 413:
        message = "Request body too large"
    elif status == 400 and "json" in message.lower():
        message = "We could not parse the JSON body of your request."
    code = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}.get(status)
    return error_response(status, message, code=code, headers=getattr(exc, "headers", None))


def backend_unavailable_handler(request: Request, exc: Exception) -> Response[bytes]:
    """Redis or the database cannot be reached: fail closed, and say it is temporary."""
    log.error("backing service unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return error_response(
        503,
        "The gateway cannot reach its database or rate limiter right now; retry shortly.",
        code="backend_unavailable",
        headers={"Retry-After": "1"},
    )


def internal_error_handler(request: Request, exc: Exception) -> Response[bytes]:
    # The request line only: headers would carry the caller's key.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "The server had an error while processing your request.", code="internal_error")


EXCEPTION_HANDLERS = {
    e.DomainError: domain_error_handler,
    HTTPException: http_exception_handler,
    ConnectionError: backend_unavailable_handler,
    TimeoutError: backend_unavailable_handler,
    OSError: backend_unavailable_handler,
    DBAPIError: backend_unavailable_handler,
    RedisError: backend_unavailable_handler,
    Exception: internal_error_handler,
}
