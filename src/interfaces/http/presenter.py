"""How an API family words errors, and the exception handlers built from that.

Every family answers the same failures (a rule broken, a bad route, an upstream failure, a backing
service down, a bug) in its own shape; `exception_handlers` gives a family's router the one map
Litestar needs, and `by_path` picks the family for what reaches the app before any router does
(an unknown path, a wrong method).
"""

import logging
import math
from collections.abc import Callable, Sequence
from typing import Protocol

from litestar import Request, Response
from litestar.exceptions import HTTPException
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

from application.ports.upstream import UpstreamError
from domain import errors as e
from interfaces.http.rate_headers import rate_headers

log = logging.getLogger("sluice.http")

Headers = dict[str, str] | None

BACKEND_UNAVAILABLE = "The gateway cannot reach its database or rate limiter right now; retry shortly."
INTERNAL_ERROR = "The server had an error while processing your request."


class ErrorPresenter(Protocol):
    def domain_error(self, exc: e.DomainError, headers: Headers) -> Response[bytes]: ...

    def upstream_error(self, error: UpstreamError, headers: Headers) -> Response[bytes]: ...

    def http_error(self, status: int, message: str, code: str | None, headers: Headers) -> Response[bytes]: ...


def refusal_headers(exc: e.DomainError) -> Headers:
    """What a refusal tells a client besides its body: when a rate limit lets it retry."""
    if isinstance(exc, e.RateLimited):
        headers = rate_headers(exc.decision)
        headers["Retry-After"] = str(max(1, math.ceil(exc.decision.retry_after)))
        return headers
    return None


def _http_message(exc: HTTPException) -> tuple[str, str | None]:
    status = exc.status_code
    message = exc.detail or "error"
    if status == 404:
        message = "Not Found: no such route"
    elif status == 413:
        message = "Request body too large"
    elif status == 400 and "json" in message.lower():
        message = "We could not parse the JSON body of your request."
    code = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}.get(status)
    return message, code


def exception_handlers(present: Callable[[Request], ErrorPresenter]) -> dict[type[Exception], Callable]:
    def domain(request: Request, exc: e.DomainError) -> Response[bytes]:
        return present(request).domain_error(exc, refusal_headers(exc))

    def upstream(request: Request, exc: UpstreamError) -> Response[bytes]:
        # An upstream a request needed before its own call (the moderation model of a plan that
        # moderates input) failed: the request fails closed, in the family's words.
        return present(request).upstream_error(exc, None)

    def http(request: Request, exc: HTTPException) -> Response[bytes]:
        message, code = _http_message(exc)
        return present(request).http_error(exc.status_code, message, code, getattr(exc, "headers", None))

    def backend_unavailable(request: Request, exc: Exception) -> Response[bytes]:
        """Redis or the database cannot be reached: fail closed, and say it is temporary."""
        log.error("backing service unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return present(request).http_error(503, BACKEND_UNAVAILABLE, "backend_unavailable", {"Retry-After": "1"})

    def internal(request: Request, exc: Exception) -> Response[bytes]:
        # The request line only: headers would carry the caller's key.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return present(request).http_error(500, INTERNAL_ERROR, "internal_error", None)

    return {
        e.DomainError: domain,
        UpstreamError: upstream,
        HTTPException: http,
        ConnectionError: backend_unavailable,
        TimeoutError: backend_unavailable,
        OSError: backend_unavailable,
        DBAPIError: backend_unavailable,
        RedisError: backend_unavailable,
        Exception: internal,
    }


def always(presenter: ErrorPresenter) -> Callable[[Request], ErrorPresenter]:
    return lambda _: presenter


def by_path(
    families: Sequence[tuple[Callable[[str], bool], ErrorPresenter]], default: ErrorPresenter
) -> Callable[[Request], ErrorPresenter]:
    """The family whose paths the request's path belongs to; `default` for every other path."""

    def present(request: Request) -> ErrorPresenter:
        path = request.url.path
        for owns, presenter in families:
            if owns(path):
                return presenter
        return default

    return present
