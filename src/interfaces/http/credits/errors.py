"""The credits API's errors: a flat {"error": "..."}, with the spec's extra fields on a 402."""

import msgspec
from litestar import Response

from application.ports.upstream import UpstreamError
from domain import errors as e
from interfaces.http.credits.wire import credits_number
from interfaces.http.presenter import Headers
from interfaces.wording import describe

_STATUS: dict[type[e.DomainError], int] = {
    e.InvalidRequest: 400,
    e.AuthenticationFailed: 401,
    e.InsufficientCredits: 402,
    e.SpendCapReached: 402,
    e.AccountBanned: 403,
    e.ModelNotAllowed: 403,
    e.ClientBlocked: 403,
    e.InputFlagged: 403,
    e.UnknownModel: 404,
    e.NotFound: 404,
    e.RateLimited: 429,
}
_JSON = "application/json"


def flat(status: int, body: dict[str, object], headers: Headers = None) -> Response[bytes]:
    return Response(msgspec.json.encode(body), status_code=status, media_type=_JSON, headers=headers)


class CreditsErrors:
    def domain_error(self, exc: e.DomainError, headers: Headers) -> Response[bytes]:
        status = _STATUS.get(type(exc), 400)
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
