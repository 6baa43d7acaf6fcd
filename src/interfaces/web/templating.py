"""Jinja templates and the static files (CSS, scripts, the charts' assets), all served by Sluice itself."""

from pathlib import Path
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from interfaces.web.viewer import Viewer

_HERE = Path(__file__).parent

TEMPLATE_CONFIG = TemplateConfig(directory=_HERE / "templates", engine=JinjaTemplateEngine)
STATIC_ROUTER = create_static_files_router(
    path="/static", directories=[_HERE / "static"], include_in_schema=False, name="static"
)


def page(template: str, viewer: Viewer | None, *, status_code: int = 200, **context: Any) -> Template:
    """A page with what the layout needs (the viewer for the menu, the CSRF token for every form)."""
    return Template(
        template_name=template,
        context={"viewer": viewer, "csrf_token": viewer.csrf_token if viewer else "", **context},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )
