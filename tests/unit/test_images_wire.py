"""OpenAI's images API over an image-capable chat model: request rules, the chat body, reading the answer."""

import base64
import json
import struct
import zlib
from typing import Any

import httpx
import openai
import pytest

from application.ports.upstream import UpstreamError
from domain.errors import InvalidRequest
from domain.images import ImageAsk, sniff_media_type
from domain.pricing import Usage
from interfaces.http.openai.images_wire import (
    images_from_reply,
    images_response,
    parse_image_request,
    upstream_chat_body,
)


def _png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = _png()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20


def _body(**fields: Any) -> bytes:
    return json.dumps({"model": "google/gemini-2.5-flash-image", "prompt": "a red fox", **fields}).encode()


def _reply(*messages: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": "gen-1",
            "object": "chat.completion",
            "choices": [{"index": i, "finish_reason": "stop", "message": m} for i, m in enumerate(messages)],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1290},
        }
    ).encode()


def _data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def _image(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


# ---- parse_image_request -------------------------------------------------------------------------


def test_defaults() -> None:
    ask = parse_image_request(_body())
    assert ask == ImageAsk(model="google/gemini-2.5-flash-image", prompt="a red fox")
    assert (ask.n, ask.size, ask.aspect_ratio, ask.response_format, ask.quality) == (1, "1024x1024", "1:1", "url", None)
    assert ask.wants_url and not ask.high_quality


def test_every_field_is_read() -> None:
    ask = parse_image_request(
        _body(
            n=4,
            size="1792x1024",
            quality="hd",
            response_format="b64_json",
            style="natural",
            user="end-user-7",
            output_format="webp",
        )
    )
    assert ask == ImageAsk(
        model="google/gemini-2.5-flash-image",
        prompt="a red fox",
        n=4,
        size="1792x1024",
        quality="hd",
        response_format="b64_json",
        style="natural",
        user="end-user-7",
        output_format="webp",
    )
    assert ask.aspect_ratio == "16:9" and ask.high_quality and not ask.wants_url


@pytest.mark.parametrize(
    ("size", "ratio"),
    [
        ("256x256", "1:1"),
        ("512x512", "1:1"),
        ("1024x1024", "1:1"),
        ("1792x1024", "16:9"),
        ("1024x1792", "9:16"),
        ("1536x1024", "3:2"),
        ("1024x1536", "2:3"),
        ("auto", None),
    ],
)
def test_sizes_map_to_aspect_ratios(size: str, ratio: str | None) -> None:
    assert parse_image_request(_body(size=size)).aspect_ratio == ratio


def test_nulls_mean_the_defaults_as_the_sdk_sends_them() -> None:
    ask = parse_image_request(
        _body(n=None, size=None, quality=None, response_format=None, style=None, user=None, output_format=None)
    )
    assert ask == ImageAsk(model="google/gemini-2.5-flash-image", prompt="a red fox")


def test_unknown_and_unsupported_options_are_ignored() -> None:
    ask = parse_image_request(_body(background="transparent", moderation="low", output_compression=80, extra=[1]))
    assert ask.prompt == "a red fox"


def test_safety_identifier_stands_in_for_user() -> None:
    assert parse_image_request(_body(safety_identifier="sid")).user == "sid"
    assert parse_image_request(_body(safety_identifier="sid", user="u")).user == "u"


@pytest.mark.parametrize("quality", ["standard", "hd", "low", "medium", "high", "xhigh", "max", "auto"])
def test_every_quality_is_accepted(quality: str) -> None:
    assert parse_image_request(_body(quality=quality)).quality == quality


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"", None),
        (b"[]", None),
        (b"{", None),
        (b'{"model": "m", "prompt": "\xff"}', None),
        (json.dumps({"prompt": "x"}).encode(), "model"),
        (json.dumps({"model": "", "prompt": "x"}).encode(), "model"),
        (json.dumps({"model": 7, "prompt": "x"}).encode(), "model"),
        (json.dumps({"model": "a\nb", "prompt": "x"}).encode(), "model"),
        (json.dumps({"model": "m" * 300, "prompt": "x"}).encode(), "model"),
        (json.dumps({"model": "m"}).encode(), "prompt"),
        (_body(prompt=None), "prompt"),
        (_body(prompt=""), "prompt"),
        (_body(prompt="   \n"), "prompt"),
        (_body(prompt="x" * 4001), "prompt"),
        (_body(prompt=["a"]), "prompt"),
        (_body(n=0), "n"),
        (_body(n=5), "n"),
        (_body(n=-1), "n"),
        (_body(n=1.5), "n"),
        (_body(n="2"), "n"),
        (_body(n=True), "n"),
        (_body(size="300x300"), "size"),
        (_body(size="1024X1024"), "size"),
        (_body(size=1024), "size"),
        (_body(quality="ultra"), "quality"),
        (_body(response_format="png"), "response_format"),
        (_body(style="cartoon"), "style"),
        (_body(output_format="gif"), "output_format"),
        (_body(output_format="svg"), "output_format"),
        (_body(user=5), "user"),
        (_body(user="u" * 300), "user"),
        (_body(stream=True), "stream"),
        (_body(stream="yes"), "stream"),
    ],
)
def test_each_invalid_field_is_named(body: bytes, param: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_image_request(body)
    assert caught.value.param == param


def test_the_longest_prompt_is_accepted_and_a_rejected_value_is_quoted_short() -> None:
    assert len(parse_image_request(_body(prompt="é" * 4000)).prompt) == 4000
    with pytest.raises(InvalidRequest) as caught:
        parse_image_request(_body(size="9" * 500))
    assert len(caught.value.detail) < 250
    assert "1024x1024" in caught.value.detail


def test_stream_false_is_fine() -> None:
    assert parse_image_request(_body(stream=False)).n == 1


# ---- upstream_chat_body --------------------------------------------------------------------------


def test_the_chat_body_asks_for_one_image_in_the_aspect_ratio() -> None:
    ask = parse_image_request(_body(size="1024x1536", n=3))
    assert json.loads(upstream_chat_body(ask, "google/gemini-2.5-flash-image")) == {
        "model": "google/gemini-2.5-flash-image",
        "messages": [{"role": "user", "content": "a red fox"}],
        "modalities": ["image", "text"],
        "image_config": {"aspect_ratio": "2:3"},
    }


@pytest.mark.parametrize("quality", ["hd", "high", "xhigh", "max"])
def test_a_high_quality_asks_for_2k(quality: str) -> None:
    body = json.loads(upstream_chat_body(parse_image_request(_body(quality=quality)), "m"))
    assert body["image_config"] == {"aspect_ratio": "1:1", "image_size": "2K"}


@pytest.mark.parametrize("quality", ["standard", "low", "medium", "auto"])
def test_other_qualities_leave_the_size_alone(quality: str) -> None:
    body = json.loads(upstream_chat_body(parse_image_request(_body(quality=quality)), "m"))
    assert body["image_config"] == {"aspect_ratio": "1:1"}


def test_auto_size_sends_no_image_config_and_the_user_rides_along() -> None:
    body = json.loads(upstream_chat_body(parse_image_request(_body(size="auto", user="u-1")), "other/model"))
    assert body == {
        "model": "other/model",
        "messages": [{"role": "user", "content": "a red fox"}],
        "modalities": ["image", "text"],
        "user": "u-1",
    }


def test_the_prompt_is_json_escaped() -> None:
    prompt = 'say "hi"\n</script> ☃ \\'
    body = json.loads(upstream_chat_body(parse_image_request(_body(prompt=prompt)), "m"))
    assert body["messages"][0]["content"] == prompt


# ---- images_from_reply ---------------------------------------------------------------------------


def test_data_url_images_become_bytes_with_the_text_as_revised_prompt() -> None:
    reply = _reply({"role": "assistant", "content": " Here is your fox. ", "images": [_image(_data_url(PNG))]})
    [image] = images_from_reply(reply)
    assert image.data == PNG
    assert image.media_type == "image/png"
    assert image.url is None
    assert image.revised_prompt == "Here is your fox."


def test_several_images_and_choices_in_order() -> None:
    reply = _reply(
        {"content": None, "images": [_image(_data_url(PNG)), _image(_data_url(JPEG, "image/jpeg"))]},
        {"content": [{"type": "text", "text": "second"}], "images": [_image(_data_url(WEBP, "image/webp"))]},
    )
    images = images_from_reply(reply)
    assert [(i.media_type, i.revised_prompt) for i in images] == [
        ("image/png", None),
        ("image/jpeg", None),
        ("image/webp", "second"),
    ]
    assert images[2].data == WEBP


def test_the_bytes_decide_the_media_type_not_the_header() -> None:
    [image] = images_from_reply(_reply({"images": [_image(_data_url(PNG, "image/jpeg"))]}))
    assert image.media_type == "image/png"


@pytest.mark.parametrize(
    "url",
    [
        _data_url(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "image/svg+xml"),
        _data_url(b"<html><script>alert(1)</script></html>", "text/html"),
        _data_url(b"GIF8"),  # too short to be a GIF
        "data:image/png;base64,not*base64!",
        "data:image/png," + PNG.hex(),  # not base64
        "data:image/png;base64",  # no comma
        "ftp://example.com/a.png",
        "javascript:alert(1)",
    ],
)
def test_unusable_images_are_a_protocol_error(url: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        images_from_reply(_reply({"content": "x", "images": [_image(url)]}))
    assert (caught.value.status, caught.value.kind) == (502, "protocol")


def test_base64_with_line_breaks_or_no_padding_is_read() -> None:
    encoded = base64.b64encode(PNG).decode()
    wrapped = "\n".join(encoded[i : i + 20] for i in range(0, len(encoded), 20)).rstrip("=")
    [image] = images_from_reply(_reply({"images": [_image("data:image/png;base64," + wrapped)]}))
    assert image.data == PNG


def test_http_urls_are_passed_on() -> None:
    reply = _reply({"content": "ok", "images": [_image("https://cdn.example.com/a.png")]})
    [image] = images_from_reply(reply)
    assert (image.data, image.media_type, image.url, image.revised_prompt) == (
        None,
        None,
        "https://cdn.example.com/a.png",
        "ok",
    )


@pytest.mark.parametrize(
    "reply",
    [
        _reply({"role": "assistant", "content": "I can't draw that."}),
        _reply({"role": "assistant", "content": "", "images": []}),
        json.dumps({"choices": []}).encode(),
        json.dumps({"choices": [{"message": None}]}).encode(),
        json.dumps({}).encode(),
    ],
)
def test_an_answer_without_an_image_says_what_the_model_said(reply: bytes) -> None:
    with pytest.raises(UpstreamError) as caught:
        images_from_reply(reply)
    assert (caught.value.status, caught.value.kind) == (502, "no_image")
    if b"can't" in reply:
        assert caught.value.message == "The model answered without an image: I can't draw that."


@pytest.mark.parametrize(
    "reply",
    [b"", b"not json", b"[1]", b'{"choices": 3}', b'{"choices": [{"message": {"images": [{"image_url": {}}]}}]}'],
)
def test_an_unreadable_answer_is_a_protocol_error(reply: bytes) -> None:
    with pytest.raises(UpstreamError) as caught:
        images_from_reply(reply)
    assert (caught.value.status, caught.value.kind) == (502, "protocol")


def test_sniffing() -> None:
    assert sniff_media_type(PNG) == "image/png"
    assert sniff_media_type(JPEG) == "image/jpeg"
    assert sniff_media_type(WEBP) == "image/webp"
    assert sniff_media_type(b"GIF89a....") == "image/gif"
    assert sniff_media_type(b"RIFF\x00\x00\x00\x00WAVE") is None
    assert sniff_media_type(b"") is None


# ---- images_response -----------------------------------------------------------------------------


def test_the_response_omits_absent_fields() -> None:
    body = images_response(1_700_000_000, [("https://gw/v1/images/t1", None, "a fox"), (None, "QUJD", None)])
    assert json.loads(body) == {
        "created": 1_700_000_000,
        "data": [{"url": "https://gw/v1/images/t1", "revised_prompt": "a fox"}, {"b64_json": "QUJD"}],
    }


def test_the_response_carries_usage_when_known() -> None:
    body = json.loads(images_response(1, [], Usage(prompt_tokens=3, completion_tokens=2580)))
    assert body["usage"] == {
        "input_tokens": 3,
        "input_tokens_details": {"text_tokens": 3, "image_tokens": 0},
        "output_tokens": 2580,
        "total_tokens": 2583,
    }


def test_the_openai_sdk_round_trip() -> None:
    """What the SDK sends parses; what we answer, the SDK reads into .data[i].url / .b64_json."""
    seen: list[bytes] = []
    b64 = base64.b64encode(PNG).decode()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        assert request.url.path == "/v1/images/generations"
        ask = parse_image_request(request.content)
        items = [
            (None, b64, "revised") if not ask.wants_url else (f"https://gw/v1/images/t{i}", None, None)
            for i in range(ask.n)
        ]
        body = images_response(1_700_000_000, items, Usage(3, 1290 * ask.n))
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        client = openai.OpenAI(api_key="k", base_url="http://gw/v1", http_client=http)
        urls = client.images.generate(model="m", prompt="a fox", n=2, size="1792x1024", quality="hd")
        b64s = client.images.generate(model="m", prompt="a fox", response_format="b64_json", style="vivid")

    assert [d.url for d in urls.data or []] == ["https://gw/v1/images/t0", "https://gw/v1/images/t1"]
    assert urls.created == 1_700_000_000
    assert urls.usage is not None and urls.usage.output_tokens == 2580
    [only] = b64s.data or []
    assert only.url is None and base64.b64decode(only.b64_json or "") == PNG and only.revised_prompt == "revised"
    first = parse_image_request(seen[0])
    assert (first.n, first.aspect_ratio, first.high_quality) == (2, "16:9", True)
    assert parse_image_request(seen[1]).style == "vivid"
