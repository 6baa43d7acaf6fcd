"""The Gemini family's errors: {"error": {"code", "message", "status"}} with Google's status names."""

from litestar import Response

from application.ports.upstream import UpstreamError
from domain import errors as e
from interfaces.http.error_status import status_of
from interfaces.http.gemini.errors import gemini_error_body
from interfaces.http.presenter import Headers
from interfaces.wording import describe

_JSON = "application/json"


def _message(exc: e.DomainError) -> str:
    if isinstance(exc, e.AuthenticationFailed):
        # Google's own wording, which Gemini clients show as is.
        return "API key not valid. Please pass a valid API key."
    if isinstance(exc, e.UnknownModel):
        return f"models/{exc.model} is not found for API version v1beta, or is not supported for generateContent."
    return describe(exc)


def gemini_response(status: int, message: str, headers: Headers = None) -> Response[bytes]:
    return Response(gemini_error_body(status, message), status_code=status, media_type=_JSON, headers=headers)


class GeminiErrors:
    def domain_error(self, exc: e.DomainError, headers: Headers) -> Response[bytes]:
        return gemini_response(status_of(exc), _message(exc), headers)

    def upstream_error(self, error: UpstreamError, headers: Headers) -> Response[bytes]:
        return gemini_response(error.status, error.message, headers)

    def http_error(self, status: int, message: str, code: str | None, headers: Headers) -> Response[bytes]:
        return gemini_response(status, message, headers)


GEMINI_ERRORS = GeminiErrors()
