"""The OpenAPI document: Litestar generates it; these hooks describe what the handlers read by hand.

The handlers read the raw body (no Litestar validation on the hot path), so their request bodies,
responses, headers and security are described here, as `operation_class` hooks. The document is
built once, at the first request for it: nothing here runs per API call.
"""

from dataclasses import dataclass
from importlib.metadata import version as package_version
from typing import Any

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
    SecurityScheme,
)

_SNAKE = {
    "additionalProperties": "additional_properties",
    "minItems": "min_items",
    "minLength": "min_length",
    "maxLength": "max_length",
    "oneOf": "one_of",
    "anyOf": "any_of",
}


def schema(spec: dict[str, Any]) -> Schema:
    """A Litestar Schema from a plain JSON-schema dict (nested properties, items, oneOf)."""
    fields: dict[str, Any] = {}
    for key, value in spec.items():
        name = _SNAKE.get(key, key)
        if name == "type":
            value = [OpenAPIType(v) for v in value] if isinstance(value, list) else OpenAPIType(value)
        elif name == "properties":
            value = {prop: schema(sub) for prop, sub in value.items()}
        elif name in ("items",) or (name == "additional_properties" and isinstance(value, dict)):
            value = schema(value)
        elif name in ("one_of", "any_of"):
            value = [schema(sub) for sub in value]
        fields[name] = value
    return Schema(**fields)


_ANY: dict[str, Any] = {}
_OBJECT = {"type": "object", "additionalProperties": True}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "code", "param"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": ["string", "integer", "null"]},
                "param": {"type": ["string", "null"]},
            },
            "additionalProperties": True,
        }
    },
    "additionalProperties": True,
}

_MODEL_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "a model id, e.g. qwen/qwen3-32b"}
_TOKENS = {"type": ["integer", "null"], "minimum": 0, "maximum": 2**31 - 1}
_MESSAGE = {
    "type": "object",
    "properties": {
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
        "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": _OBJECT}, {"type": "null"}]},
        "name": {"type": "string"},
    },
    "required": ["role"],
    "additionalProperties": True,
}
CHAT_REQUEST = {
    "type": "object",
    "required": ["model", "messages"],
    "description": "OpenAI/OpenRouter chat completion; unknown fields reach the upstream byte for byte.",
    "properties": {
        "model": _MODEL_ID,
        "messages": {"type": "array", "minItems": 1, "items": _MESSAGE},
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {
            "type": ["object", "null"],
            "properties": {"include_usage": {"type": ["boolean", "null"]}},
            "additionalProperties": True,
        },
        "max_tokens": _TOKENS,
        "max_completion_tokens": _TOKENS,
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "additionalProperties": True,
}
_INPUT = {"anyOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": _ANY}]}
EMBEDDINGS_REQUEST = {
    "type": "object",
    "required": ["model", "input"],
    "properties": {"model": _MODEL_ID, "input": _INPUT, "encoding_format": {"type": "string"}},
    "additionalProperties": True,
}
MODERATIONS_REQUEST = {
    "type": "object",
    "required": ["input"],
    "properties": {"model": _MODEL_ID, "input": _INPUT},
    "additionalProperties": True,
}
IMAGES_REQUEST = {
    "type": "object",
    "required": ["model", "prompt"],
    "properties": {
        "model": _MODEL_ID,
        "prompt": {"type": "string", "minLength": 1, "maxLength": 4000},
        "n": {"type": ["integer", "null"], "minimum": 1, "maximum": 4},
        "size": {
            "type": ["string", "null"],
            "enum": [
                *("256x256", "512x512", "1024x1024", "1792x1024", "1024x1792", "1536x1024", "1024x1536"),
                *("auto", None),
            ],
        },
        "quality": {"type": ["string", "null"]},
        "response_format": {"type": ["string", "null"], "enum": ["url", "b64_json", None]},
    },
    "additionalProperties": True,
}
IMAGES_RESPONSE = {
    "type": "object",
    "required": ["created", "data"],
    "properties": {"created": {"type": "integer"}, "data": {"type": "array", "items": _OBJECT}},
    "additionalProperties": True,
}
CHAT_RESPONSE = {
    "type": "object",
    "required": ["id", "choices"],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string"},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {"type": "array", "items": _OBJECT},
        "usage": _OBJECT,
    },
    "additionalProperties": True,
}
EMBEDDINGS_RESPONSE = {
    "type": "object",
    "required": ["data"],
    "properties": {"object": {"type": "string"}, "data": {"type": "array", "items": _OBJECT}, "usage": _OBJECT},
    "additionalProperties": True,
}
MODERATIONS_RESPONSE = {
    "type": "object",
    "required": ["results"],
    "properties": {"id": {"type": "string"}, "model": {"type": "string"}, "results": {"type": "array"}},
    "additionalProperties": True,
}
MODEL = {
    "type": "object",
    "required": ["id", "object", "created", "owned_by"],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string", "enum": ["model"]},
        "created": {"type": "integer"},
        "owned_by": {"type": "string"},
    },
    "additionalProperties": True,
}
MODEL_LIST = {
    "type": "object",
    "required": ["object", "data"],
    "properties": {"object": {"type": "string", "enum": ["list"]}, "data": {"type": "array", "items": MODEL}},
}
STATS = {
    "type": "object",
    "required": ["totalRequests", "totalTokens", "totalPromptTokens", "totalCompletionTokens"],
    "properties": {
        name: {"type": "integer", "minimum": 0}
        for name in ("totalRequests", "totalTokens", "totalPromptTokens", "totalCompletionTokens")
    },
}
_USD = {"type": ["number", "null"]}
KEY = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "type": "object",
            "required": ["label", "limit", "usage", "limit_remaining", "rate_limit"],
            "properties": {
                "label": {"type": ["string", "null"]},
                "limit": _USD,
                "usage": _USD,
                "limit_remaining": _USD,
                "is_free_tier": {"type": "boolean"},
                "expires_at": {"type": ["string", "null"]},
                "rate_limit": {
                    "type": "object",
                    "properties": {
                        "requests": {"type": "integer"},
                        "interval": {"type": "string"},
                        "note": {"type": "string"},
                    },
                },
            },
            "additionalProperties": True,
        }
    },
}
STATUS = {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}
READINESS_PROBLEMS = {
    "type": "object",
    "required": ["status", "problems"],
    "properties": {"status": {"type": "string"}, "problems": {"type": "array", "items": {"type": "string"}}},
}

_DESCRIPTIONS = {
    200: "OK",
    400: "malformed body or parameter (or the upstream's 400)",
    401: "missing or invalid API key",
    402: "credits exhausted or spend cap reached",
    403: "account banned or model not allowed for this key or plan",
    404: "unknown model (or the upstream's 404)",
    413: "request body too large",
    422: "the upstream could not process the request",
    429: "rate limited (by the gateway or the upstream)",
    502: "the upstream failed or answered nonsense",
    503: "the upstream, the model catalogue, the database or Redis is unavailable; retry after Retry-After",
    504: "the upstream timed out",
}
_INT_HEADER = Schema(type=OpenAPIType.STRING, description="an integer")
RATE_HEADERS = {
    "X-RateLimit-Limit-Requests": OpenAPIHeader(schema=_INT_HEADER, description="requests allowed in the window"),
    "X-RateLimit-Remaining-Requests": OpenAPIHeader(schema=_INT_HEADER, description="requests left in the window"),
    "X-RateLimit-Reset-Requests": OpenAPIHeader(
        schema=_INT_HEADER, description="UTC epoch second when the whole window is back"
    ),
}
REQUEST_ID = {"X-Request-Id": OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), description="the request's id")}
RETRY_AFTER = {"Retry-After": OpenAPIHeader(schema=_INT_HEADER, description="seconds to wait before retrying")}
BEARER = "bearer"

METERED_ERRORS = (400, 401, 402, 403, 404, 413, 422, 429, 502, 503, 504)
ACCOUNT_ERRORS = (401, 403, 503)


def _json(spec: dict[str, Any]) -> dict[str, OpenAPIMediaType]:
    return {"application/json": OpenAPIMediaType(schema=schema(spec))}


def _error(status: int, metered: bool) -> OpenAPIResponse:
    headers: dict[str, OpenAPIHeader] = {}
    if metered:
        headers |= RATE_HEADERS | REQUEST_ID
    if status in (429, 503):
        headers |= RETRY_AFTER
    return OpenAPIResponse(description=_DESCRIPTIONS[status], content=_json(ERROR), headers=headers or None)


def documented(
    *,
    ok: dict[str, Any],
    errors: tuple[int, ...] = (),
    body: dict[str, Any] | None = None,
    stream: bool = False,
    auth: bool = False,
    metered: bool = False,
    ok_media_type: str = "application/json",
    unavailable: dict[str, Any] | None = None,
) -> type[Operation]:
    """An `operation_class` for a handler that reads its own body and builds its own responses."""
    ok_content = {ok_media_type: OpenAPIMediaType(schema=schema(ok))}
    if stream:
        ok_content["text/event-stream"] = OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.STRING, description="SSE frames `data: {chunk}`, then `data: [DONE]`")
        )
    ok_headers = RATE_HEADERS | REQUEST_ID if metered else None

    @dataclass
    class Documented(Operation):
        def __post_init__(self) -> None:
            if body is not None:
                self.request_body = RequestBody(content=_json(body), required=True)
            self.responses = {"200": OpenAPIResponse(description="OK", content=ok_content, headers=ok_headers)}
            for status in errors:
                self.responses[str(status)] = _error(status, metered)
            if unavailable is not None:  # /readyz says which probe failed, not in the error shape
                self.responses["503"] = OpenAPIResponse(description=_DESCRIPTIONS[503], content=_json(unavailable))
            if auth:
                self.security = [{BEARER: []}]

    return Documented


OPENAPI_CONFIG = OpenAPIConfig(
    title="Sluice",
    version=package_version("sluice"),
    description="An OpenAI-compatible AI gateway: keys, plans, rate limits, credits, usage.",
    # The document only, at /openapi.json: Swagger UI would load its scripts from a CDN, and /docs is
    # the instance's own documentation page.
    path="/openapi.json",
    render_plugins=[JsonRenderPlugin(path="/")],
    components=Components(
        security_schemes={BEARER: SecurityScheme(type="http", scheme="bearer", description="a Sluice API key")}
    ),
)
