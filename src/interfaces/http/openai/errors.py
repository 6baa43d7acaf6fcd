"""The OpenAI family's errors: {"error": {"message", "type", "code", "param"}}."""

import msgspec
from litestar import Response

from application.ports.upstream import UpstreamError
from domain import errors as e
from interfaces.http.error_status import status_of
from interfaces.http.presenter import Headers
from interfaces.wording import describe

_HTTP_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
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

_JSON = "application/json"


def error_body(message: str, type_: str, code: str | int | None = None, param: str | None = None) -> bytes:
    return msgspec.json.encode({"error": {"message": message, "type": type_, "code": code, "param": param}})


def error_response(
    status: int, message: str, code: str | int | None = None, param: str | None = None, headers: Headers = None
) -> Response[bytes]:
    type_ = _HTTP_TYPES.get(status, "upstream_error" if status >= 500 else "invalid_request_error")
    return Response(error_body(message, type_, code, param), status_code=status, media_type=_JSON, headers=headers)


def _param(exc: e.DomainError) -> str | None:
    if isinstance(exc, e.InvalidRequest):
        return exc.param
    if isinstance(exc, e.ModelNotAllowed | e.UnknownModel):
        return "model"
    return None


class OpenAIErrors:
    def domain_error(self, exc: e.DomainError, headers: Headers) -> Response[bytes]:
        status = status_of(exc)
        body = error_body(describe(exc), _HTTP_TYPES[status], exc.code, _param(exc))
        return Response(body, status_code=status, media_type=_JSON, headers=headers)

    def upstream_error(self, error: UpstreamError, headers: Headers) -> Response[bytes]:
        # OpenRouter's numeric code rides along in `code`, as its own clients expect.
        return error_response(error.status, error.message, code=error.status, headers=headers)

    def http_error(self, status: int, message: str, code: str | None, headers: Headers) -> Response[bytes]:
        return error_response(status, message, code=code, headers=headers)


OPENAI_ERRORS = OpenAIErrors()
