"""A stand-in /dashboard for the sign-in flow's tests, until the dashboard's own page replaces this file."""

from litestar import Controller, Request, get
from litestar.response import Template

from interfaces.web.guards import require_viewer

_PAGE = """{% extends "base.html" %}{% block title %}Dashboard{% endblock %}
{% block content %}<h1>Dashboard</h1><p>Signed in as {{ viewer.account.email }}.</p>{% endblock %}"""


class DashboardPlaceholder(Controller):
    include_in_schema = False

    @get("/dashboard")
    async def dashboard(self, request: Request) -> Template:
        viewer = await require_viewer(request)
        return Template(
            template_str=_PAGE,
            context={"viewer": viewer, "csrf_token": viewer.csrf_token},
            headers={"Cache-Control": "no-store"},
        )
