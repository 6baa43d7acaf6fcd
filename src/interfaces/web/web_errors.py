"""How the web side answers errors: an HTML page for pages, `{"error": "..."}` for /api/* calls.

The same failures as every API family (a rule broken, a bad route, a backing service down, a bug;
`interfaces/http/presenter.py`), plus the web's own: not signed in (a page redirects to /login with
`next`, a call gets 401) and refused (403).
"""

import math
from collections.abc import Callable

from litestar import Request, Response
from litestar.response import Redirect

from application.ports.upstream import UpstreamError
from domain import errors as e
from interfaces.http.presenter import Headers, exception_handlers
from interfaces.web.guards import cached_viewer, is_api_call, login_url
from interfaces.web.refusals import NotSignedIn, Refused
from interfaces.web.templating import page
from interfaces.wording import describe

_STATUS: dict[type[e.DomainError], int] = {
    e.InvalidRequest: 400,
    e.PasswordRejected: 400,
    e.SignInFailed: 401,
    e.AuthenticationFailed: 401,
    e.AccountBanned: 403,
    e.SignUpClosed: 403,
    e.EmailDomainNotAllowed: 403,
    e.NotFound: 404,
    e.Conflict: 409,
    e.TooManyKeys: 409,
    e.TooManyAttempts: 429,
    e.RateLimited: 429,
}
_TITLES = {
    400: "Bad request",
    401: "Sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    413: "Too large",
    429: "Too many requests",
    503: "Unavailable",
}


def status_of(error: e.DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in _STATUS:
            return _STATUS[kind]  # type: ignore[index]
    return 400


def retry_headers(error: e.DomainError) -> Headers:
    if isinstance(error, e.TooManyAttempts):
        return {"Retry-After": str(max(1, math.ceil(error.retry_after)))}
    return None


class WebErrorPresenter:
    def __init__(self, request: Request) -> None:
        self._request = request

    def domain_error(self, exc: e.DomainError, headers: Headers) -> Response[bytes]:
        return self.answer(status_of(exc), describe(exc), headers or retry_headers(exc))

    def upstream_error(self, error: UpstreamError, headers: Headers) -> Response[bytes]:
        return self.answer(502, "The upstream could not answer; try again shortly.", headers)

    def http_error(self, status: int, message: str, code: str | None, headers: Headers) -> Response[bytes]:
        if status == 404 and not is_api_call(self._request):
            message = "There is no page here."
        return self.answer(status, message, headers)

    def answer(self, status: int, message: str, headers: Headers) -> Response[bytes]:
        if is_api_call(self._request):
            return Response({"error": message}, status_code=status, headers=headers, media_type="application/json")
        viewer = cached_viewer(self._request)
        title = _TITLES.get(status, "Error")
        template = page("error.html", viewer, status_code=status, title=title, status=status, message=message)
        for name, value in (headers or {}).items():
            template.headers[name] = value
        return template  # type: ignore[return-value]


def web_exception_handlers() -> dict[type[Exception], Callable]:
    handlers = exception_handlers(WebErrorPresenter)

    def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if is_api_call(request):
            return WebErrorPresenter(request).answer(401, str(exc.detail), None)
        return Redirect(login_url(request), status_code=303)

    def refused(request: Request, exc: Refused) -> Response:
        return WebErrorPresenter(request).answer(403, str(exc.detail), None)

    return {**handlers, NotSignedIn: not_signed_in, Refused: refused}
