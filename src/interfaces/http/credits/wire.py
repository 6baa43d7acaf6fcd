"""Reading a credits-API chat body: the spec's two required fields, its default `max_tokens`, its price."""

from fractions import Fraction

import msgspec

from application.gateway_request import GatewayRequest
from domain.errors import InvalidRequest
from domain.money import MICROS_PER_USD
from domain.plans import Endpoint
from domain.pricing import Tariff
from interfaces.http.chat_validation import validate_chat_fields
from interfaces.http.moderation_wire import chat_texts
from interfaces.http.openai.wire import read_fields

DEFAULT_MAX_TOKENS = 150
MISSING_FIELDS = "Missing required fields: model and messages array"
# One credit a request, two for a batch request; a credit is a dollar (the spec's packages).
CREDIT_MICROS = MICROS_PER_USD
STANDARD = Tariff(flat_micros=CREDIT_MICROS, bills_balance=True)
BATCH = Tariff(flat_micros=CREDIT_MICROS, multiplier=Fraction(2), bills_balance=True)

_str = msgspec.json.Decoder(str)
_list = msgspec.json.Decoder(list[msgspec.Raw])
_max_tokens = msgspec.json.Decoder(int | None)
_encode = msgspec.json.encode


def _decoded(decoder: msgspec.json.Decoder, raw: msgspec.Raw | None):  # type: ignore[no-untyped-def]
    if raw is None:
        return None
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError:
        return None


def is_batch(flag: str | None) -> bool:
    return (flag or "").strip().lower() in {"1", "true", "yes"}


def parse_credits_chat(body: bytes, client_ip: str, client_marks: tuple[str, ...], batch: bool) -> GatewayRequest:
    try:
        fields = read_fields(body)
    except InvalidRequest:
        raise InvalidRequest(MISSING_FIELDS) from None
    model = _decoded(_str, fields.get("model"))
    messages = _decoded(_list, fields.get("messages"))
    if not model or not messages:
        raise InvalidRequest(MISSING_FIELDS)
    validate_chat_fields(fields)
    raw_max = fields.get("max_tokens")
    max_tokens = _decoded(_max_tokens, raw_max) if raw_max is not None else None
    if raw_max is not None and bytes(raw_max).strip() != b"null" and (max_tokens is None or max_tokens < 1):
        raise InvalidRequest("max_tokens must be a positive integer", param="max_tokens")
    if raw_max is None or max_tokens is None:
        max_tokens = DEFAULT_MAX_TOKENS
        fields["max_tokens"] = msgspec.Raw(b"150")
    # The answer states the credits charged and left, so it is one JSON object, never a stream.
    fields.pop("stream", None)
    fields.pop("stream_options", None)

    def with_model(served: str) -> bytes:
        return _encode({**fields, "model": msgspec.Raw(_encode(served))})

    return GatewayRequest(
        endpoint=Endpoint.CHAT,
        upstream_path="/chat/completions",
        model=model,
        body=_encode(fields),
        max_tokens=max_tokens,
        client_ip=client_ip,
        client_marks=client_marks,
        tariff=BATCH if batch else STANDARD,
        with_model=with_model,
        input_texts=lambda: chat_texts(body),
    )


def credits_number(micros: int) -> int | float:
    """Credits as the spec prints them: `1`, `99`, and `98.5` where a balance has a fraction."""
    whole, rest = divmod(micros, CREDIT_MICROS)
    return whole if rest == 0 else micros / CREDIT_MICROS


def with_credits(upstream_body: bytes, charged_micros: int, balance_micros: int, batch: bool) -> bytes:
    """The upstream's answer with the spec's three fields added at the end."""
    body = upstream_body.rstrip()
    if not body.endswith(b"}"):
        return upstream_body
    extra = _encode(
        {
            "credits_charged": credits_number(charged_micros),
            "credits_remaining": credits_number(max(balance_micros, 0)),
            "batch_request": batch,
        }
    )
    separator = b"," if body[:-1].rstrip() not in (b"{", b"") else b""
    return body[:-1] + separator + extra[1:]
