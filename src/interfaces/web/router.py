"""The web side's router: every handler of WEB_HANDLERS under one error shape and the cookie refresh."""

from collections.abc import Sequence

from litestar import Router
from litestar.types import ControllerRouterHandler

from interfaces.web.session_cookie import SessionCookieRefresh
from interfaces.web.web_errors import web_exception_handlers


def web_router(handlers: Sequence[ControllerRouterHandler]) -> Router:
    return Router(
        path="/",
        route_handlers=list(handlers),
        exception_handlers=web_exception_handlers(),  # type: ignore[arg-type]
        middleware=[SessionCookieRefresh],
        include_in_schema=False,
    )
