"""Every page and the dashboard's JSON calls, gathered for the application (see interfaces/http/app.py)."""

from litestar.types import ControllerRouterHandler

from interfaces.web.templating import STATIC_ROUTER

WEB_HANDLERS: list[ControllerRouterHandler] = [STATIC_ROUTER]
