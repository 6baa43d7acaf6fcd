"""/docs: the API documentation of this very instance, signed in or not.

The examples carry this instance's own base URL (as the request reached it) and the first model the
viewer's plan allows, so they run as shown. The key is the one thing they cannot carry: its secret
is shown once, at creation, and Sluice keeps only a hash. So every example reads it from the
`SLUICE_API_KEY` environment variable, and the page tells a signed-in viewer which key that is (the
newest active key's name and prefix, never a secret).
"""

from dishka import FromDishka
from litestar import Controller, Request, Response, get

from application.use_cases.allowed_models import PrepareDocs
from interfaces.http.injection import inject
from interfaces.web.guards import current_viewer
from interfaces.web.templating import page


def base_url(request: Request) -> str:
    """This instance as the caller reached it (scheme and Host; a proxy's X-Forwarded-* where trusted)."""
    return str(request.base_url).rstrip("/")


class DocsPage(Controller):
    include_in_schema = False

    @get("/docs")
    @inject
    async def docs(self, request: Request, prepare: FromDishka[PrepareDocs]) -> Response:
        viewer = await current_viewer(request)
        facts = await prepare.execute(viewer.account if viewer else None)
        return page(
            "docs.html",
            viewer,
            base=base_url(request),
            model=facts.chat_model,
            embedding_model=facts.embedding_model,
            first_models=facts.first_models,
            newest_key=facts.newest_key,
            plan=facts.plan,
        )
