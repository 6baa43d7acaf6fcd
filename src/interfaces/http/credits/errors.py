"""The credits API's errors: a flat {"error": "..."}, with the spec's extra fields on a 402."""

import msgspec
from litestar import Response

from application.ports.upstream import UpstreamError
from domain import errors as e
from interfaces.http.credits.wire import credits_number
from interfaces.http.error_status import status_of
from interfaces.http.presenter import Headers
from interfaces.wording import describe

_JSON = "application/json"


def flat(status: int, body: dict[str, object], headers: Headers = None) -> Response[bytes]:
    return Response(msgspec.json.encode(body), status_code=status, media_type=_JSON, headers=headers)


class CreditsErrors:
    def domain_error(self, exc: e.DomainError, headers: Headers) -> Response[bytes]:
        status = status_of(exc)
        if isinstance(exc, e.AuthenticationFailed):
            return flat(401, {"error": "Invalid API key"}, headers)
        if isinstance(exc, e.InsufficientCredits):
            required, available = credits_number(exc.required), credits_number(exc.available)
            return flat(
                402,
                {
                    "error": f"Insufficient credits. Required: {required}, Available: {available}",
                    "credits_required": required,
                    "credits_available": available,
                },
                headers,
            )
        if isinstance(exc, e.InputFlagged):
            return flat(403, {"error": describe(exc), "categories": list(exc.categories)}, headers)
        return flat(status, {"error": describe(exc)}, headers)

    def upstream_error(self, error: UpstreamError, headers: Headers) -> Response[bytes]:
        return flat(error.status, {"error": error.message}, headers)

    def http_error(self, status: int, message: str, code: str | None, headers: Headers) -> Response[bytes]:
        return flat(status, {"error": message}, headers)


CREDITS_ERRORS = CreditsErrors()
