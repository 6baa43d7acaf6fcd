"""The Gemini-compatible routes: generateContent, streamGenerateContent, countTokens, models.

Model ids hold slashes (`models/qwen/qwen3-32b:generateContent`), so everything after `/models/`
is the target: the model, then `:` and the method.
"""

from collections.abc import AsyncIterator

from dishka import FromDishka
from litestar import Controller, Request, Response, get, post

from application.gateway_request import GatewayRequest
from application.ports.upstream import ModelCatalog
from application.principal import Principal
from application.use_cases.authenticate import Authenticate
from application.use_cases.proxy_model_request import ProxyModelRequest
from application.use_cases.stream_model_request import StreamBroken, StreamEvent, StreamModelRequest
from domain.errors import InvalidRequest, UnknownModel
from domain.plans import Endpoint
from interfaces.http.credentials import client_ip, client_marks
from interfaces.http.event_stream import EventStream
from interfaces.http.gemini.auth import gemini_key
from interfaces.http.gemini.errors import gemini_error_body
from interfaces.http.gemini.models import model_id, translate_model, translate_models
from interfaces.http.gemini.presenter import GEMINI_ERRORS, gemini_response
from interfaces.http.gemini.request import GeminiRequestError, UpstreamChat, translate_request
from interfaces.http.gemini.response import UpstreamReplyError, translate_reply
from interfaces.http.gemini.stream import JsonArrayFramer, StreamTranslator, sse_event
from interfaces.http.gemini.tokens import count_tokens
from interfaces.http.injection import inject
from interfaces.http.moderation_wire import chat_texts
from interfaces.http.openai.calls import response_headers

PREFIXES = ("/api/v1beta", "/v1beta")
_JSON = "application/json"
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def owns(path: str) -> bool:
    return path.startswith(PREFIXES)


def _split(target: str) -> tuple[str, str]:
    model, _, method = target.lstrip("/").rpartition(":")
    model = model_id(model)
    if not model or not method:
        raise InvalidRequest(f"'{target.lstrip('/')}' is not of the form models/MODEL:METHOD", param="model")
    return model, method


def _translated(model: str, body: bytes, stream: bool) -> UpstreamChat:
    try:
        return translate_request(model, body, stream=stream)
    except GeminiRequestError as exc:
        raise InvalidRequest(exc.message, param=exc.field) from None


def _call(request: Request, model: str, body: bytes, ask: UpstreamChat, stream: bool) -> GatewayRequest:
    return GatewayRequest(
        endpoint=Endpoint.CHAT,
        upstream_path="/chat/completions",
        model=model,
        body=ask.openai_body,
        stream=stream,
        max_tokens=ask.max_tokens,
        client_ip=client_ip(request),
        client_marks=client_marks(request),
        with_model=lambda served: _translated(served, body, stream).openai_body,
        input_texts=lambda: chat_texts(ask.openai_body),
    )


def _data(raw: bytes) -> bytes | None:
    """The data of one upstream event; None for comments and events without data."""
    if raw.startswith(b"data:"):
        body = raw[5:].strip()
        if b"\n" not in body:
            return body
    lines = [line[5:].strip() for line in raw.splitlines() if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


async def _gemini_events(
    events: AsyncIterator[StreamEvent], translator: StreamTranslator, sse: bool
) -> AsyncIterator[bytes]:
    framer = None if sse else JsonArrayFramer()

    def framed(obj: bytes) -> bytes:
        return sse_event(obj) if framer is None else framer.frame(obj)

    try:
        async for event in events:
            if isinstance(event, StreamBroken):
                yield framed(gemini_error_body(event.error.status, event.error.message))
                continue
            out = []
            for chunk in event:
                data = _data(chunk.raw)
                if data is not None:
                    out += [framed(obj) for obj in translator.feed(data)]
            if out:
                yield b"".join(out)
        for obj in translator.finish():
            yield framed(obj)
        if framer is not None:
            yield framer.close()
    finally:
        await events.aclose()  # type: ignore[attr-defined]


class GeminiController(Controller):
    include_in_schema = False  # /openapi.json documents the OpenAI family; docs/api.md has this one

    @post("/models/{target:path}", status_code=200)
    @inject
    async def model_call(
        self,
        target: str,
        request: Request,
        auth: FromDishka[Authenticate],
        proxy: FromDishka[ProxyModelRequest],
        relay: FromDishka[StreamModelRequest],
    ) -> Response:
        principal = await auth.execute(gemini_key(request))
        model, method = _split(target)
        body = await request.body()
        if method == "countTokens":
            try:
                return Response(count_tokens(body), media_type=_JSON)
            except GeminiRequestError as exc:
                raise InvalidRequest(exc.message, param=exc.field) from None
        if method == "generateContent":
            return await self._generate(request, principal, model, body, proxy)
        if method == "streamGenerateContent":
            return await self._stream(request, principal, model, body, relay)
        return gemini_response(
            404, f"Method '{method}' is not served here: use generateContent, streamGenerateContent or countTokens."
        )

    async def _generate(  # type: ignore[no-untyped-def]
        self, request, principal: Principal, model: str, body: bytes, proxy
    ) -> Response:
        ask = _translated(model, body, stream=False)
        proxied = await proxy.execute(principal, _call(request, model, body, ask, stream=False))
        headers = response_headers(proxied.request_id, proxied.decision)
        if proxied.error is not None:
            return GEMINI_ERRORS.upstream_error(proxied.error, headers)
        assert proxied.reply is not None
        try:
            answer = translate_reply(proxied.reply.body, model=model, include_thoughts=ask.include_thoughts)
        except UpstreamReplyError as exc:
            return gemini_response(502, f"The upstream's answer could not be read: {exc}", headers)
        return Response(answer, media_type=_JSON, headers=headers)

    async def _stream(  # type: ignore[no-untyped-def]
        self, request, principal: Principal, model: str, body: bytes, relay
    ) -> Response:
        ask = _translated(model, body, stream=True)
        sse = request.query_params.get("alt") == "sse"
        relayed = await relay.execute(principal, _call(request, model, body, ask, stream=True))
        headers = response_headers(relayed.request_id, relayed.decision)
        if relayed.error is not None:
            return GEMINI_ERRORS.upstream_error(relayed.error, headers)
        assert relayed.events is not None
        frames = _gemini_events(relayed.events, StreamTranslator(model, ask.include_thoughts), sse)
        if sse:
            return EventStream(frames, media_type="text/event-stream", headers={**_SSE_HEADERS, **headers})
        return EventStream(frames, media_type=_JSON, headers=headers)

    @get("/models")
    @inject
    async def models(
        self, request: Request, auth: FromDishka[Authenticate], catalog: FromDishka[ModelCatalog]
    ) -> Response:
        await auth.execute(gemini_key(request))
        listing = await catalog.listing("models")
        if listing is None:
            return _catalog_unavailable()
        page_size = request.query_params.get("pageSize")
        body = translate_models(
            listing,
            page_size=int(page_size) if page_size and page_size.isdigit() else None,
            page_token=request.query_params.get("pageToken"),
        )
        return Response(body, media_type=_JSON)

    @get("/models/{target:path}")
    @inject
    async def model(
        self, target: str, request: Request, auth: FromDishka[Authenticate], catalog: FromDishka[ModelCatalog]
    ) -> Response:
        await auth.execute(gemini_key(request))
        listing = await catalog.listing("models")
        if listing is None:
            return _catalog_unavailable()
        found = translate_model(listing, target.lstrip("/"))
        if found is None:
            raise UnknownModel(model_id(target.lstrip("/")))
        return Response(found, media_type=_JSON)


def _catalog_unavailable() -> Response:
    return gemini_response(
        503, "The model catalogue cannot be loaded from the upstream right now; retry shortly.", {"Retry-After": "30"}
    )
