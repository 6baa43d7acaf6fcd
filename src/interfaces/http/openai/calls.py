"""The shared steps of every metered OpenAI-family call: authenticate, parse, proxy, answer."""

from collections.abc import Callable

from litestar import Request, Response

from application.gateway_request import GatewayRequest
from application.principal import Principal
from application.use_cases.authenticate import Authenticate
from application.use_cases.moderate import ProxyModerationRequest
from application.use_cases.proxy_model_request import ProxyModelRequest
from domain.plans import Endpoint
from domain.rate_policy import Decision
from interfaces.http.credentials import bearer, client_ip, client_marks
from interfaces.http.openai.errors import OPENAI_ERRORS
from interfaces.http.rate_headers import rate_headers

Parser = Callable[[bytes, str, tuple[str, ...]], GatewayRequest]


def response_headers(request_id: str, decision: Decision | None) -> dict[str, str]:
    headers = rate_headers(decision)
    headers["X-Request-Id"] = request_id
    return headers


class ForwardModelCall:
    def __init__(
        self,
        auth: Authenticate,
        proxy: ProxyModelRequest,
        moderation: ProxyModerationRequest,
    ) -> None:
        self._auth = auth
        self._proxy = proxy
        self._moderation = moderation  # moderations go to their own upstream

    async def caller(self, request: Request) -> Principal:
        return await self._auth.execute(bearer(request))

    async def read(self, request: Request, parse: Parser) -> tuple[Principal, GatewayRequest]:
        """The caller first (a bad key is a 401 even when the body is bad too), then the body."""
        principal = await self.caller(request)
        return principal, parse(await request.body(), client_ip(request), client_marks(request))

    async def __call__(self, request: Request, parse: Parser) -> Response:
        principal, call = await self.read(request, parse)
        return await self.send(principal, call)

    async def send(self, principal: Principal, call: GatewayRequest) -> Response:
        """A metered non-streaming call; the upstream's body goes back as it came (plus our headers)."""
        proxy = self._moderation if call.endpoint is Endpoint.MODERATIONS else self._proxy
        proxied = await proxy.execute(principal, call)
        if proxied.error is not None:
            return OPENAI_ERRORS.upstream_error(proxied.error, response_headers(proxied.request_id, proxied.decision))
        assert proxied.reply is not None
        return Response(
            proxied.reply.body,
            status_code=proxied.reply.status,
            media_type=proxied.reply.content_type,
            headers=response_headers(proxied.request_id, proxied.decision),
        )
