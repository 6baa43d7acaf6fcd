"""Who is signed in, and what a request must carry to act for them. Every page uses these four.

- `current_viewer`: the session cookie's viewer, or None (resolved once per request).
- `require_viewer`: pages answer 303 to /login?next=<this page>; /api/* calls 401 {"error": ...}.
- `require_admin`: as require_viewer, then 403 for an account without the admin role.
- `check_csrf`: a state-changing form (`_csrf` field) or script call (`X-CSRF-Token` header) must
  carry the session's synchronizer token, compared in constant time; 403 otherwise.

The JSON calls of /api/keys also take a cookie without a token, exactly as the credits spec's curl
sends it: `check_json_call` (reasoning in docs/architecture.md, "Sessions, CSRF and passwords").
"""

import hmac
from urllib.parse import quote

from litestar import Request

from application.use_cases.web_sessions import ResolveSession
from interfaces.settings import Settings
from interfaces.web.refusals import (
    ADMINS_ONLY,
    CROSS_SITE_REFUSED,
    CSRF_REFUSED,
    JSON_ONLY,
    NotSignedIn,
    Refused,
)
from interfaces.web.session_cookie import COOKIE_NAME, refresh_later, request_state, session_cookie
from interfaces.web.viewer import Viewer

CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
_VIEWER = "sluice.viewer"
_UNSET = object()


async def current_viewer(request: Request) -> Viewer | None:
    state = request_state(request)
    cached = state.get(_VIEWER, _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    container = request.app.state.dishka_container
    token = request.cookies.get(COOKIE_NAME)
    active = await (await container.get(ResolveSession)).execute(token) if token else None
    viewer = None
    if active is not None:
        viewer = Viewer(active.account, active.session.id, active.session.csrf_token)
        if active.touched and token:
            settings = await container.get(Settings)
            refresh_later(request, session_cookie(request, token, settings.session_days * 86400))
    state[_VIEWER] = viewer
    return viewer


def cached_viewer(request: Request) -> Viewer | None:
    """The viewer if this request resolved it already (an error page's menu), without a lookup."""
    cached = request_state(request).get(_VIEWER)
    return cached if isinstance(cached, Viewer) else None


def forget_viewer(request: Request) -> None:
    """After signing in or out within a request, the next `current_viewer` reads afresh."""
    request_state(request).pop(_VIEWER, None)


def is_api_call(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def require_viewer(request: Request) -> Viewer:
    viewer = await current_viewer(request)
    if viewer is None:
        raise NotSignedIn()
    return viewer


async def require_admin(request: Request) -> Viewer:
    viewer = await require_viewer(request)
    if not viewer.is_admin:
        raise Refused(ADMINS_ONLY)
    return viewer


def check_csrf(request: Request, viewer: Viewer, submitted: str | None) -> None:
    """`submitted`: the form's `_csrf` field; None reads the X-CSRF-Token header instead."""
    if submitted is None:
        submitted = request.headers.get(CSRF_HEADER)
    if not submitted or not hmac.compare_digest(submitted.encode(), viewer.csrf_token.encode()):
        raise Refused(CSRF_REFUSED)


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}".lower()


def check_same_origin(request: Request) -> None:
    """Refuses what a browser marks as coming from another site: an `Origin` other than this
    instance's own (scheme and Host as this request arrived), or `Sec-Fetch-Site: cross-site`.
    A client that is no browser (curl, a script) sends neither and passes."""
    origin = request.headers.get("origin")
    if origin is not None and origin.lower() != own_origin(request):
        raise Refused(CROSS_SITE_REFUSED)
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise Refused(CROSS_SITE_REFUSED)


def check_json_call(request: Request, viewer: Viewer, *, with_body: bool = True) -> None:
    """A session-cookie JSON call (/api/keys): the CSRF token where the caller sends one (our own
    pages' scripts do); else no other site's mark on it, and a body a cross-site form cannot send."""
    check_same_origin(request)
    if request.headers.get(CSRF_HEADER) is not None:
        check_csrf(request, viewer, None)
        return
    if with_body:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise Refused(JSON_ONLY)


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="/")
