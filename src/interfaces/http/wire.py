"""Reading an OpenAI-family request body once: what policy needs, and the bytes to forward.

The body is decoded into `dict[str, msgspec.Raw]`: the few fields policy reads are decoded on
their own, every other field stays the exact bytes the client sent (OpenRouter's `plugins`,
`modalities`, `image_config`, `provider`, `reasoning`... all survive untouched).
"""

import msgspec

from application.gateway_request import GatewayRequest
from domain.errors import InvalidRequest
from domain.plans import Endpoint

_fields = msgspec.json.Decoder(dict[str, msgspec.Raw])
_str = msgspec.json.Decoder(str)
_bool = msgspec.json.Decoder(bool | None)
_int = msgspec.json.Decoder(int | None)
_options = msgspec.json.Decoder(dict[str, msgspec.Raw] | None)
_encode = msgspec.json.encode
_TRUE = msgspec.Raw(b"true")


def _decode(decoder: msgspec.json.Decoder, raw: msgspec.Raw | None, name: str, kind: str):  # type: ignore[no-untyped-def]
    if raw is None:
        return None
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError:
        raise InvalidRequest(f"'{name}' must be {kind}", param=name) from None


def read_fields(body: bytes) -> dict[str, msgspec.Raw]:
    if not body.strip():
        raise InvalidRequest("The request body is empty; send a JSON object.")
    try:
        return _fields.decode(body)
    except msgspec.DecodeError:
        raise InvalidRequest("We could not parse the JSON body of your request: expected a JSON object.") from None


def _model(fields: dict[str, msgspec.Raw]) -> str:
    model = _decode(_str, fields.get("model"), "model", "a string")
    if not model:
        raise InvalidRequest("you must provide a model parameter", param="model")
    return model


def _require(fields: dict[str, msgspec.Raw], name: str, what: str) -> None:
    raw = fields.get(name)
    if raw is None or bytes(raw).strip() in (b"null", b"[]", b'""'):
        raise InvalidRequest(f"'{name}' is required: {what}", param=name)


def parse_embeddings(body: bytes, client_ip: str) -> GatewayRequest:
    fields = read_fields(body)
    model = _model(fields)
    _require(fields, "input", "a string or an array of strings to embed")
    return GatewayRequest(Endpoint.EMBEDDINGS, "/embeddings", model, body, client_ip=client_ip)


DEFAULT_MODERATION_MODEL = "omni-moderation-latest"


def parse_moderations(body: bytes, client_ip: str) -> GatewayRequest:
    fields = read_fields(body)
    _require(fields, "input", "the text (or image) to classify")
    model = _decode(_str, fields.get("model"), "model", "a string") or DEFAULT_MODERATION_MODEL
    return GatewayRequest(Endpoint.MODERATIONS, "/moderations", model, body, client_ip=client_ip, catalogued=False)


def parse_chat(body: bytes, client_ip: str) -> GatewayRequest:
    fields = read_fields(body)
    model = _model(fields)
    messages = fields.get("messages")
    if messages is None or not bytes(messages).lstrip().startswith(b"[") or bytes(messages).strip() == b"[]":
        raise InvalidRequest("'messages' must be a non-empty array of message objects", param="messages")
    stream = bool(_decode(_bool, fields.get("stream"), "stream", "a boolean"))
    max_tokens = _decode(_int, fields.get("max_tokens"), "max_tokens", "an integer")
    if max_tokens is None:
        max_tokens = _decode(_int, fields.get("max_completion_tokens"), "max_completion_tokens", "an integer")
    wants_usage = False
    forward = body
    if stream:
        options = _decode(_options, fields.get("stream_options"), "stream_options", "an object") or {}
        wants_usage = _decode(_bool, options.get("include_usage"), "stream_options.include_usage", "a boolean")
        if not wants_usage:
            # Metering needs the usage frame; the client will not see it unless it asked.
            options["include_usage"] = _TRUE
            fields["stream_options"] = msgspec.Raw(_encode(options))
            forward = _encode(fields)
    return GatewayRequest(
        endpoint=Endpoint.CHAT,
        upstream_path="/chat/completions",
        model=model,
        body=forward,
        stream=stream,
        client_wants_usage=bool(wants_usage),
        max_tokens=max_tokens,
        client_ip=client_ip,
    )
