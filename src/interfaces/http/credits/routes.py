"""The credits API's routes: one chat endpoint priced in credits, and the model list."""

from dishka import FromDishka
from litestar import Controller, Request, Response, get, post

from application.ports.upstream import ModelCatalog
from application.use_cases.authenticate import Authenticate
from application.use_cases.charged_call import ProxyChargedRequest
from interfaces.http.credentials import bearer, client_ip, client_marks
from interfaces.http.credits.errors import CREDITS_ERRORS, flat
from interfaces.http.credits.wire import is_batch, parse_credits_chat, with_credits
from interfaces.http.injection import inject
from interfaces.http.openai.calls import response_headers

PATHS = ("/api/v1/chat", "/api/models")
CATALOG_RETRY_AFTER = "30"


def owns(path: str) -> bool:
    return path.rstrip("/") in PATHS


class CreditsController(Controller):
    path = "/api"
    include_in_schema = False  # /openapi.json documents the OpenAI family; docs/api.md has this one

    @post("/v1/chat", status_code=200)
    @inject
    async def chat(
        self,
        request: Request,
        auth: FromDishka[Authenticate],
        charged: FromDishka[ProxyChargedRequest],
    ) -> Response:
        principal = await auth.execute(bearer(request))
        batch = is_batch(request.query_params.get("batch"))
        call = parse_credits_chat(await request.body(), client_ip(request), client_marks(request), batch)
        result = await charged.execute(principal, call)
        proxied = result.proxied
        headers = response_headers(proxied.request_id, proxied.decision)
        if proxied.error is not None:
            return CREDITS_ERRORS.upstream_error(proxied.error, headers)
        assert proxied.reply is not None
        body = with_credits(proxied.reply.body, result.charged_micros, result.balance_micros, batch)
        return Response(body, status_code=proxied.reply.status, media_type="application/json", headers=headers)

    @get("/models")
    @inject
    async def models(self, catalog: FromDishka[ModelCatalog]) -> Response:
        listing = await catalog.listing("models")
        if listing is None:
            return flat(
                503,
                {"error": "The model catalogue cannot be loaded from the upstream right now; retry shortly."},
                {"Retry-After": CATALOG_RETRY_AFTER},
            )
        return Response(listing, media_type="application/json")
