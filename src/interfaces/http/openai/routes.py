"""The OpenAI family: chat completions, embeddings, moderations, models, stats and key, under three prefixes."""

from typing import Any

import msgspec
from dishka import FromDishka
from litestar import Controller, Request, Response, get, post

from application.ports.upstream import ModelCatalog
from application.use_cases.generate_images import GenerateImages
from application.use_cases.stream_model_request import StreamModelRequest
from application.use_cases.usage_stats import DescribeKey, GetAccountStats
from domain.money import micros_to_usd
from interfaces.http.event_stream import EventStream
from interfaces.http.injection import inject
from interfaces.http.openai.calls import ForwardModelCall, response_headers
from interfaces.http.openai.errors import OPENAI_ERRORS, error_response
from interfaces.http.openai.images import generate_images
from interfaces.http.openai.stream import sse_body
from interfaces.http.openai.wire import parse_chat, parse_embeddings, parse_moderations
from interfaces.http.openapi import (
    ACCOUNT_ERRORS,
    CHAT_REQUEST,
    CHAT_RESPONSE,
    EMBEDDINGS_REQUEST,
    EMBEDDINGS_RESPONSE,
    IMAGES_REQUEST,
    IMAGES_RESPONSE,
    KEY,
    METERED_ERRORS,
    MODEL,
    MODEL_LIST,
    MODERATIONS_REQUEST,
    MODERATIONS_RESPONSE,
    STATS,
    documented,
)

_JSON = "application/json"


class _Listing(msgspec.Struct):
    data: list[dict[str, Any]]


_listing_decoder = msgspec.json.Decoder(_Listing)
# The catalogue retries a failed load after 30 s (CachedModelCatalog's retry_seconds default).
CATALOG_RETRY_AFTER = "30"
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


class OpenAIController(Controller):
    @post(
        "/chat/completions",
        status_code=200,
        operation_class=documented(
            body=CHAT_REQUEST, ok=CHAT_RESPONSE, stream=True, errors=METERED_ERRORS, auth=True, metered=True
        ),
    )
    @inject
    async def chat_completions(
        self, request: Request, forward: FromDishka[ForwardModelCall], relay: FromDishka[StreamModelRequest]
    ) -> Response:
        principal, chat = await forward.read(request, parse_chat)
        call = chat.request
        if not call.stream:
            return await forward.send(principal, call)
        relayed = await relay.execute(principal, call)
        headers = response_headers(relayed.request_id, relayed.decision)
        if relayed.error is not None:
            return OPENAI_ERRORS.upstream_error(relayed.error, headers)
        assert relayed.events is not None
        return EventStream(
            sse_body(relayed.events, chat.wants_usage),
            media_type="text/event-stream",
            headers={**_SSE_HEADERS, **headers},
        )

    @post(
        "/embeddings",
        status_code=200,
        operation_class=documented(
            body=EMBEDDINGS_REQUEST, ok=EMBEDDINGS_RESPONSE, errors=METERED_ERRORS, auth=True, metered=True
        ),
    )
    @inject
    async def embeddings(self, request: Request, forward: FromDishka[ForwardModelCall]) -> Response:
        return await forward(request, parse_embeddings)

    @post(
        "/images/generations",
        status_code=200,
        operation_class=documented(
            body=IMAGES_REQUEST, ok=IMAGES_RESPONSE, errors=METERED_ERRORS, auth=True, metered=True
        ),
    )
    @inject
    async def images(
        self, request: Request, forward: FromDishka[ForwardModelCall], generate: FromDishka[GenerateImages]
    ) -> Response:
        principal = await forward.caller(request)
        return await generate_images(request, principal, generate)

    @post(
        "/moderations",
        status_code=200,
        operation_class=documented(
            body=MODERATIONS_REQUEST, ok=MODERATIONS_RESPONSE, errors=METERED_ERRORS, auth=True, metered=True
        ),
    )
    @inject
    async def moderations(self, request: Request, forward: FromDishka[ForwardModelCall]) -> Response:
        return await forward(request, parse_moderations)

    @get("/models", operation_class=documented(ok=MODEL_LIST, errors=(503,)))
    @inject
    async def models(self, catalog: FromDishka[ModelCatalog]) -> Response:
        return _listing_response(await catalog.listing("models"))

    @get("/models/{model_id:path}", operation_class=documented(ok=MODEL, errors=(404, 503)))
    @inject
    async def model(self, model_id: str, catalog: FromDishka[ModelCatalog]) -> Response:
        """OpenAI's `models.retrieve`; ids hold slashes (`qwen/qwen3-32b`), so the rest of the path is the id."""
        wanted = model_id.lstrip("/")
        for kind in ("models", "embeddings"):
            listing = await catalog.listing(kind)
            if listing is None:
                return _catalog_unavailable()
            for entry in _listing_decoder.decode(listing).data:
                if entry.get("id") == wanted:
                    return Response(msgspec.json.encode(entry), media_type=_JSON)
        return error_response(404, f"Model '{wanted}' not found", code="model_not_found", param="model")

    @get("/embeddings/models", operation_class=documented(ok=MODEL_LIST, errors=(503,)))
    @inject
    async def embedding_models(self, catalog: FromDishka[ModelCatalog]) -> Response:
        return _listing_response(await catalog.listing("embeddings"))

    @get("/stats", operation_class=documented(ok=STATS, errors=ACCOUNT_ERRORS, auth=True))
    @inject
    async def stats(
        self, request: Request, forward: FromDishka[ForwardModelCall], stats: FromDishka[GetAccountStats]
    ) -> Response:
        principal = await forward.caller(request)
        totals = await stats.execute(principal)
        body = {
            "totalRequests": totals.requests,
            "totalTokens": totals.total_tokens,
            "totalPromptTokens": totals.prompt_tokens,
            "totalCompletionTokens": totals.completion_tokens,
        }
        return Response(msgspec.json.encode(body), media_type=_JSON)

    @get(["/key", "/auth/key"], operation_class=documented(ok=KEY, errors=ACCOUNT_ERRORS, auth=True))
    @inject
    async def key(
        self, request: Request, forward: FromDishka[ForwardModelCall], describe: FromDishka[DescribeKey]
    ) -> Response:
        principal = await forward.caller(request)
        report = await describe.execute(principal)

        def usd(micros: int | None) -> float | None:
            return None if micros is None else micros_to_usd(micros)

        rate = report.rate_limit
        data = {
            "label": report.label,
            "limit": usd(report.limit_micros),
            "usage": usd(report.usage_micros),
            "usage_daily": usd(report.usage_daily_micros),
            "usage_weekly": usd(report.usage_weekly_micros),
            "usage_monthly": usd(report.usage_monthly_micros),
            "byok_usage": 0.0,
            "byok_usage_daily": 0.0,
            "byok_usage_weekly": 0.0,
            "byok_usage_monthly": 0.0,
            "is_free_tier": not report.prepaid,
            "is_provisioning_key": False,
            "is_management_key": False,
            "include_byok_in_limit": False,
            "limit_remaining": usd(report.limit_remaining_micros),
            "limit_reset": report.limit_reset,
            "expires_at": principal.key.expires_at.isoformat() if principal.key.expires_at else None,
            "rate_limit": (
                {
                    "requests": rate.limit,
                    "interval": rate.interval_label(),
                    "note": f"{rate.name} bucket, per {rate.subject}",
                }
                if rate
                else {"requests": -1, "interval": "10s", "note": "unlimited"}
            ),
        }
        return Response(msgspec.json.encode({"data": data}), media_type=_JSON)


def _listing_response(listing: bytes | None) -> Response:
    return _catalog_unavailable() if listing is None else Response(listing, media_type=_JSON)


def _catalog_unavailable() -> Response:
    # An empty list would read as "this gateway serves no models"; the truth is "try again".
    return error_response(
        503,
        "The model catalogue cannot be loaded from the upstream right now; retry shortly.",
        code="catalog_unavailable",
        headers={"Retry-After": CATALOG_RETRY_AFTER},
    )
