"""Every page and the dashboard's JSON calls, gathered for the application (see interfaces/http/app.py,
which mounts them on the web router: its error pages and the session cookie's refresh)."""

from litestar.types import ControllerRouterHandler

from interfaces.web.account_page import AccountPage
from interfaces.web.admin import ADMIN_HANDLERS
from interfaces.web.auth_pages import AuthPages
from interfaces.web.credits_page import CreditsPage
from interfaces.web.dashboard_pages import DashboardPages
from interfaces.web.docs_page import DocsPage
from interfaces.web.keys_api import KeysApi
from interfaces.web.keys_page import KeysPage
from interfaces.web.oidc_pages import OidcPages
from interfaces.web.templating import STATIC_ROUTER

WEB_HANDLERS: list[ControllerRouterHandler] = [
    STATIC_ROUTER,
    AuthPages,
    OidcPages,
    AccountPage,
    KeysPage,
    KeysApi,
    CreditsPage,
    DashboardPages,
    DocsPage,
    *ADMIN_HANDLERS,
]
