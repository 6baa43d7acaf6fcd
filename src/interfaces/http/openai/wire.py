"""Reading an OpenAI-family request body once: what policy needs, and the bytes to forward.

The body is decoded into `dict[str, msgspec.Raw]`: the few fields policy reads are decoded on
their own, every other field stays the exact bytes the client sent (OpenRouter's `plugins`,
`modalities`, `image_config`, `provider`, `reasoning`... all survive untouched).
"""

import re
from dataclasses import dataclass
from typing import Annotated

import msgspec

from application.gateway_request import GatewayRequest
from domain.errors import InvalidRequest
from domain.plans import Endpoint
from interfaces.http.chat_validation import MAX_TOKENS_LIMIT, validate_chat_fields
from interfaces.http.moderation_wire import chat_texts

_fields = msgspec.json.Decoder(dict[str, msgspec.Raw])
_str = msgspec.json.Decoder(str)
_bool = msgspec.json.Decoder(bool | None)
_int = msgspec.json.Decoder(Annotated[int, msgspec.Meta(ge=0, le=MAX_TOKENS_LIMIT)] | None)
# Model ids are recorded with every request; a bound and printable characters keep them storable.
MAX_MODEL_LENGTH = 256
_options = msgspec.json.Decoder(dict[str, msgspec.Raw] | None)
_TOKENS = f"an integer from 0 to {MAX_TOKENS_LIMIT}"
_MESSAGES_START = re.compile(rb"\[\s*\{")
_encode = msgspec.json.encode
_TRUE = msgspec.Raw(b"true")


def _decode(decoder: msgspec.json.Decoder, raw: msgspec.Raw | None, name: str, kind: str):  # type: ignore[no-untyped-def]
    if raw is None:
        return None
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        raise InvalidRequest(f"'{name}' must be {kind}", param=name) from None


def read_fields(body: bytes) -> dict[str, msgspec.Raw]:
    if not body or body.isspace():
        raise InvalidRequest("The request body is empty; send a JSON object.")
    if not body.isascii():
        # JSON text is UTF-8 (RFC 8259), and msgspec.Raw keeps string contents unchecked: check once here,
        # so nothing undecodable reaches policy or the upstream. ASCII bodies (most) skip it.
        try:
            body.decode()
        except UnicodeDecodeError as exc:
            raise InvalidRequest(f"The request body is not valid UTF-8 (byte {exc.start}).") from None
    try:
        return _fields.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidRequest(
            f"We could not parse the JSON body of your request: expected a JSON object ({exc})."
        ) from None
    except RecursionError:
        raise InvalidRequest("The JSON body of your request is nested too deeply.") from None


def _model(fields: dict[str, msgspec.Raw], default: str | None = None) -> str:
    model = _decode(_str, fields.get("model"), "model", "a string") or default
    if not model:
        raise InvalidRequest("you must provide a model parameter", param="model")
    if len(model) > MAX_MODEL_LENGTH or not model.isprintable():
        raise InvalidRequest(
            f"'model' must be a model id: at most {MAX_MODEL_LENGTH} printable characters", param="model"
        )
    return model


def _require(fields: dict[str, msgspec.Raw], name: str, what: str) -> None:
    raw = fields.get(name)
    if raw is None or bytes(raw).strip() in (b"null", b"[]", b'""'):
        raise InvalidRequest(f"'{name}' is required: {what}", param=name)


def _renamer(fields: dict[str, msgspec.Raw]):  # type: ignore[no-untyped-def]
    """The body again with another model id: only paid for when a name had to be resolved."""

    def with_model(model: str) -> bytes:
        return _encode({**fields, "model": msgspec.Raw(_encode(model))})

    return with_model


def parse_embeddings(body: bytes, client_ip: str, client_marks: tuple[str, ...] = ()) -> GatewayRequest:
    fields = read_fields(body)
    model = _model(fields)
    _require(fields, "input", "a string or an array of strings to embed")
    return GatewayRequest(
        Endpoint.EMBEDDINGS,
        "/embeddings",
        model,
        body,
        client_ip=client_ip,
        client_marks=client_marks,
        with_model=_renamer(fields),
    )


DEFAULT_MODERATION_MODEL = "omni-moderation-latest"


def parse_moderations(body: bytes, client_ip: str, client_marks: tuple[str, ...] = ()) -> GatewayRequest:
    fields = read_fields(body)
    _require(fields, "input", "the text (or image) to classify")
    model = _model(fields, DEFAULT_MODERATION_MODEL)
    return GatewayRequest(
        Endpoint.MODERATIONS,
        "/moderations",
        model,
        body,
        client_ip=client_ip,
        catalogued=False,
        client_marks=client_marks,
    )


@dataclass(frozen=True, slots=True)
class ChatCall:
    request: GatewayRequest
    wants_usage: bool  # the client asked for the usage frame of a stream (metering always does)


def parse_chat(body: bytes, client_ip: str, client_marks: tuple[str, ...] = ()) -> ChatCall:
    fields = read_fields(body)
    model = _model(fields)
    # The first element only: enough to turn away a wrong type without a second pass over the messages.
    messages = fields.get("messages")
    if messages is None or not _MESSAGES_START.match(messages):
        raise InvalidRequest("'messages' must be a non-empty array of message objects", param="messages")
    validate_chat_fields(fields)
    stream = bool(_decode(_bool, fields.get("stream"), "stream", "a boolean"))
    max_tokens = _decode(_int, fields.get("max_tokens"), "max_tokens", _TOKENS)
    if max_tokens is None:
        max_tokens = _decode(_int, fields.get("max_completion_tokens"), "max_completion_tokens", _TOKENS)
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
    request = GatewayRequest(
        endpoint=Endpoint.CHAT,
        upstream_path="/chat/completions",
        model=model,
        body=forward,
        stream=stream,
        max_tokens=max_tokens,
        client_ip=client_ip,
        client_marks=client_marks,
        with_model=_renamer(fields),
        input_texts=lambda: chat_texts(body),
    )
    return ChatCall(request, bool(wants_usage))
