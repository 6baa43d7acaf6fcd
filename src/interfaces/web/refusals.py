"""The web side's own refusals: not signed in, and not allowed (a wrong CSRF token, a cross-site
call, a page for admins). HTTP exceptions, so that wherever one is raised it has the right status;
the web router's handlers (`web_errors.py`) turn them into a redirect, an HTML page or JSON."""

from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

SIGN_IN_FIRST = "Sign in first: this needs a session (the sluice_session cookie)."
CSRF_REFUSED = "This form or call did not carry this session's CSRF token; reload the page and try again."
CROSS_SITE_REFUSED = "Cross-site requests cannot use a session here."
JSON_ONLY = "A session cookie is accepted here only with Content-Type: application/json."
ADMINS_ONLY = "This page is for admins."


class NotSignedIn(NotAuthorizedException):
    def __init__(self) -> None:
        super().__init__(detail=SIGN_IN_FIRST)


class Refused(PermissionDeniedException):
    def __init__(self, message: str) -> None:
        super().__init__(detail=message)
