"""OpenAI's images API over OpenRouter's image-capable chat models.

OpenRouter has no ``/images/generations``: a chat model with "image" among its output modalities
draws when the request sets ``"modalities": ["image", "text"]`` and answers with the images in
``choices[].message.images[].image_url.url``, as base64 data URLs. This module translates:

- ``parse_image_request``: OpenAI's request body, validated, as a ``domain.images.ImageAsk``;
- ``upstream_chat_body``: the chat body that asks one model for one image (``n`` images are ``n`` calls);
- ``images_from_reply``: the images (and the model's words) out of the chat answer;
- ``images_response``: OpenAI's ``ImagesResponse`` body, as the ``openai`` SDK parses it.

OpenRouter's ``image_config`` takes ``aspect_ratio`` (1:1, 16:9, 9:16, 3:2, 2:3, ... ) and, for
Gemini models, ``image_size`` (1K by default, 2K, 4K). A high quality (hd, high, xhigh, max) asks
for 2K; the other qualities leave the default.
"""

import base64
import binascii
from collections.abc import Sequence
from typing import Any

import msgspec

from application.ports.upstream import UpstreamError
from domain.errors import InvalidRequest
from domain.images import (
    ASPECT_RATIOS,
    DEFAULT_SIZE,
    MAX_IMAGES,
    MAX_PROMPT_CHARS,
    OUTPUT_FORMATS,
    QUALITIES,
    RESPONSE_FORMATS,
    STYLES,
    GeneratedImage,
    ImageAsk,
    sniff_media_type,
)
from domain.pricing import Usage
from interfaces.http.openai.wire import read_fields

__all__ = [
    "HIGH_QUALITY_IMAGE_SIZE",
    "ImageItem",
    "images_from_reply",
    "images_response",
    "parse_image_request",
    "upstream_chat_body",
]

HIGH_QUALITY_IMAGE_SIZE = "2K"
MAX_MODEL_LENGTH = 256
MAX_USER_LENGTH = 256
_ECHO = 40  # characters of a rejected value quoted back

_str = msgspec.json.Decoder(str | None)
_int = msgspec.json.Decoder(int | None)
_bool = msgspec.json.Decoder(bool | None)
_encode = msgspec.json.encode

# (url, b64_json, revised_prompt): one entry of the answer's "data"; None leaves a field out.
ImageItem = tuple[str | None, str | None, str | None]


# ---- the request ---------------------------------------------------------------------------------


def _decode(fields: dict[str, msgspec.Raw], name: str, decoder: msgspec.json.Decoder, kind: str) -> Any:
    """The field's value; None when absent or null (OpenAI's SDK sends null for an unset option)."""
    raw = fields.get(name)
    if raw is None:
        return None
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        raise InvalidRequest(f"'{name}' must be {kind}", param=name) from None


def _choice(fields: dict[str, msgspec.Raw], name: str, allowed: Sequence[str]) -> str | None:
    value = _decode(fields, name, _str, f"one of {', '.join(allowed)}")
    if value is not None and value not in allowed:
        shown = value if len(value) <= _ECHO else value[:_ECHO] + "..."
        raise InvalidRequest(
            f"Invalid value for '{name}': {shown!r}. Supported values are: {', '.join(allowed)}.", param=name
        )
    return value


def _text(fields: dict[str, msgspec.Raw], name: str, limit: int, what: str) -> str | None:
    value = _decode(fields, name, _str, "a string")
    if value is not None and (len(value) > limit or not value.isprintable()):
        raise InvalidRequest(f"'{name}' must be {what}: at most {limit} printable characters", param=name)
    return value


def parse_image_request(body: bytes) -> ImageAsk:
    """OpenAI's ``POST /images/generations`` body; each invalid field is an InvalidRequest naming it.

    Fields this gateway cannot act on (``background``, ``moderation``, ``output_compression``,
    ``safety_identifier`` beyond standing in for ``user``...) are ignored, as unknown fields are;
    ``stream: true`` is refused, since the answer is never streamed.
    """
    fields = read_fields(body)
    model = _text(fields, "model", MAX_MODEL_LENGTH, "a model id")
    if not model:
        raise InvalidRequest("you must provide a model parameter", param="model")

    prompt = _decode(fields, "prompt", _str, "a string")
    if prompt is None:
        raise InvalidRequest("'prompt' is required: the description of the image to generate", param="prompt")
    if not prompt.strip():
        raise InvalidRequest("'prompt' must not be empty", param="prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequest(
            f"'prompt' is too long: {len(prompt)} characters, at most {MAX_PROMPT_CHARS}", param="prompt"
        )

    n = _decode(fields, "n", _int, f"an integer from 1 to {MAX_IMAGES}")
    if n is None:
        n = 1
    elif not 1 <= n <= MAX_IMAGES:
        raise InvalidRequest(f"'n' must be an integer from 1 to {MAX_IMAGES}, got {n}", param="n")

    if _decode(fields, "stream", _bool, "a boolean"):
        raise InvalidRequest("Streaming image generation is not supported; leave 'stream' unset.", param="stream")

    user = _text(fields, "user", MAX_USER_LENGTH, "an end-user id")
    if user is None:
        user = _text(fields, "safety_identifier", MAX_USER_LENGTH, "an end-user id")

    return ImageAsk(
        model=model,
        prompt=prompt,
        n=n,
        size=_choice(fields, "size", tuple(ASPECT_RATIOS)) or DEFAULT_SIZE,
        quality=_choice(fields, "quality", QUALITIES),
        response_format=_choice(fields, "response_format", RESPONSE_FORMATS) or "url",
        style=_choice(fields, "style", STYLES),
        user=user or None,
        output_format=_choice(fields, "output_format", OUTPUT_FORMATS),
    )


def upstream_chat_body(ask: ImageAsk, model: str) -> bytes:
    """The OpenRouter chat body asking ``model`` for one image of ``ask``."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": ask.prompt}],
        "modalities": ["image", "text"],
    }
    config: dict[str, str] = {}
    if ask.aspect_ratio is not None:
        config["aspect_ratio"] = ask.aspect_ratio
    if ask.high_quality:
        config["image_size"] = HIGH_QUALITY_IMAGE_SIZE
    if config:
        body["image_config"] = config
    if ask.user is not None:
        body["user"] = ask.user
    return _encode(body)


# ---- the answer ----------------------------------------------------------------------------------


class _ImageUrl(msgspec.Struct):
    url: str


class _Image(msgspec.Struct):
    image_url: _ImageUrl


class _Message(msgspec.Struct):
    content: str | list[Any] | None = None
    images: list[_Image] | None = None


class _Choice(msgspec.Struct):
    message: _Message | None = None


class _Reply(msgspec.Struct):
    choices: list[_Choice] | None = None


_decode_reply = msgspec.json.Decoder(_Reply).decode


def _protocol(message: str, body: bytes) -> UpstreamError:
    return UpstreamError(502, message, "protocol", body[:2000])


def _message_text(content: str | list[Any] | None) -> str | None:
    if isinstance(content, list):
        content = "".join(
            part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    if not content or not content.strip():
        return None
    return content.strip()


def _from_data_url(url: str, body: bytes) -> tuple[bytes, str]:
    header, comma, payload = url.partition(",")
    if not comma or not header.lower().endswith(";base64"):
        raise _protocol("The upstream's image is a data URL without base64 content", body)
    payload = "".join(payload.split())
    try:
        data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _protocol("The upstream's image is not valid base64", body) from None
    # The bytes decide the media type, never the header: only raster images a browser cannot run
    # script from are kept and served (an "image/svg+xml" or "text/html" data URL is refused).
    media_type = sniff_media_type(data)
    if media_type is None:
        declared = header[5:].partition(";")[0] or "none"
        raise _protocol(f"The upstream's image is not a PNG, JPEG, WebP or GIF image (declared {declared!r})", body)
    return data, media_type


def images_from_reply(openai_body: bytes) -> list[GeneratedImage]:
    """Every image in a chat completion, in order, each with its message's text as ``revised_prompt``.

    A data URL becomes bytes (its media type read off them); an http(s) URL is passed on as ``url``.
    Raises ``UpstreamError`` 502: ``protocol`` for an answer or image that cannot be read,
    ``no_image`` when the model answered without any image (its words are in the message).
    """
    try:
        reply = _decode_reply(openai_body)
    except msgspec.ValidationError as exc:
        raise _protocol(f"The upstream's answer is not a chat completion ({exc})", openai_body) from None
    except (msgspec.DecodeError, RecursionError):
        raise _protocol("The upstream's answer is not valid JSON", openai_body) from None
    found: list[GeneratedImage] = []
    said: list[str] = []
    for choice in reply.choices or ():
        message = choice.message
        if message is None:
            continue
        text = _message_text(message.content)
        if text is not None:
            said.append(text)
        for image in message.images or ():
            url = image.image_url.url
            scheme = url[:8].lower()
            if scheme.startswith("data:"):
                data, media_type = _from_data_url(url, openai_body)
                found.append(GeneratedImage(data, media_type, None, text))
            elif scheme.startswith(("https://", "http://")):
                found.append(GeneratedImage(None, None, url, text))
            else:
                raise _protocol("The upstream's image URL is neither a data URL nor http(s)", openai_body)
    if not found:
        words = " ".join(said)
        detail = f": {words[:300]}" if words else ""
        raise UpstreamError(502, f"The model answered without an image{detail}", "no_image", openai_body[:2000])
    return found


def images_response(created: int, items: Sequence[ImageItem], usage: Usage | None = None) -> bytes:
    """OpenAI's images answer: ``{"created", "data": [{"url"|"b64_json", "revised_prompt"}], "usage"?}``.

    ``usage`` (the upstream calls' tokens, summed) becomes OpenAI's ``input_tokens``/``output_tokens``.
    """
    data = []
    for url, b64_json, revised_prompt in items:
        entry: dict[str, str] = {}
        if url is not None:
            entry["url"] = url
        if b64_json is not None:
            entry["b64_json"] = b64_json
        if revised_prompt is not None:
            entry["revised_prompt"] = revised_prompt
        data.append(entry)
    body: dict[str, Any] = {"created": created, "data": data}
    if usage is not None:
        body["usage"] = {
            "input_tokens": usage.prompt_tokens,
            "input_tokens_details": {"text_tokens": usage.prompt_tokens, "image_tokens": 0},
            "output_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        }
    return _encode(body)
