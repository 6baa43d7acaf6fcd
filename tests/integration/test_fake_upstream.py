"""The fake upstream itself: its wire format, its knobs and its inspection endpoints, over real HTTP."""

from __future__ import annotations

import base64
import itertools
import json
import re
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import (
    CHAT_MODELS,
    REASONING_TEXT,
    FakeUpstreamHandle,
    completion_text,
    count_prompt_tokens,
    fake_cost,
    planned_tool_call,
    reasoning_words,
    start_fake_upstream,
)
from tests.fakes.upstream.handle import REPO_ROOT
from tests.fakes.upstream.payloads import IMAGE_COLOR, IMAGE_TEXT, IMAGE_TOKENS

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": [{"type": "text", "text": "Hello there, how are you today?"}]},
]
PROMPT_TOKENS = (len("You are terse.") + len("Hello there, how are you today?")) // 4


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstreamHandle]:
    with start_fake_upstream() as handle:
        yield handle


@pytest.fixture(autouse=True)
def _fresh(request: pytest.FixtureRequest) -> None:
    if "upstream" in request.fixturenames:
        handle: FakeUpstreamHandle = request.getfixturevalue("upstream")
        handle.reset_config()
        handle.clear()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def chat(client: httpx.Client, upstream: FakeUpstreamHandle, **body: Any) -> httpx.Response:
    return client.post(f"{upstream.base_url}/chat/completions", json={"messages": MESSAGES, **body})


def sse_data(text: str) -> list[str]:
    """The data payloads of an SSE body, in order."""
    return [frame[len("data: ") :] for frame in text.split("\n\n") if frame.startswith("data: ")]


def stream_chat(
    client: httpx.Client, upstream: FakeUpstreamHandle, **body: Any
) -> tuple[httpx.Response, str, list[str]]:
    response = chat(client, upstream, stream=True, **body)
    return response, response.text, sse_data(response.text)


def raw_exchange(upstream: FakeUpstreamHandle, request: bytes) -> bytes:
    with socket.create_connection((upstream.host, upstream.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def raw_post(path: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: fake\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode() + data


def http_chunks(raw: bytes) -> list[bytes]:
    """The HTTP/1.1 chunks of a chunked response, exactly as the server framed them."""
    _, _, body = raw.partition(b"\r\n\r\n")
    chunks = []
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return chunks
        chunks.append(body[:size])
        assert body[size : size + 2] == b"\r\n"
        body = body[size + 2 :]


# ---- chat completions ---------------------------------------------------------------------------


def test_plain_completion_has_openrouter_shape(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    response = chat(client, upstream, model="qwen/qwen3-32b")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    body = response.json()
    assert body["id"].startswith("gen-")
    assert body["provider"] == "Fake"
    assert body["model"] == "qwen/qwen3-32b"
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int)
    assert "system_fingerprint" not in body
    assert body["choices"] == [
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": "stop",
            "native_finish_reason": "stop",
            "message": {
                "role": "assistant",
                "content": "chunk0 chunk1 chunk2 chunk3 chunk4",
                "refusal": None,
                "reasoning": None,
            },
        }
    ]
    assert body["usage"] == {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": 5,
        "total_tokens": PROMPT_TOKENS + 5,
        "cost": PROMPT_TOKENS * 1e-6 + 5 * 2e-6,
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    assert count_prompt_tokens(MESSAGES) == PROMPT_TOKENS


def test_v1_prefix_serves_the_same_api(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    response = client.post(f"{upstream.openai_base_url}/chat/completions", json={"messages": MESSAGES})

    assert response.status_code == 200
    assert response.json()["model"] == "openai/gpt-4o-mini"


def test_cost_is_an_exact_decimal() -> None:
    for prompt in range(0, 3000, 7):
        for completion in (0, 1, 5, 999, 4096):
            expected = Decimal(prompt) * Decimal("0.000001") + Decimal(completion) * Decimal("0.000002")
            assert Decimal(str(fake_cost(prompt, completion))) == expected


def test_prompt_tokens_have_a_floor_of_one(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    response = client.post(
        f"{upstream.base_url}/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]}
    )

    assert response.json()["usage"]["prompt_tokens"] == 1


def test_streaming_frames_without_usage(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    response, text, frames = stream_chat(client, upstream, model="anthropic/claude-3.5-sonnet")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.headers
    assert text.startswith(": OPENROUTER PROCESSING\n\n")
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(frame) for frame in frames[:-1]]
    assert len(chunks) == 5 + 1  # one per word, then the finish
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["model"] == "anthropic/claude-3.5-sonnet" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks[:-1]]
    assert deltas[0] == {"role": "assistant", "content": "chunk0"}
    assert all("role" not in d for d in deltas[1:])
    assert "".join(d["content"] for d in deltas) == completion_text(5)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in c for c in chunks)


@pytest.mark.parametrize(
    "ask",
    [{"stream_options": {"include_usage": True}}, {"usage": {"include": True}}],
    ids=["stream_options", "openrouter_usage"],
)
def test_streaming_usage_only_when_asked(
    client: httpx.Client, upstream: FakeUpstreamHandle, ask: dict[str, Any]
) -> None:
    _, _, frames = stream_chat(client, upstream, **ask)

    assert frames[-1] == "[DONE]"
    usage_chunk = json.loads(frames[-2])
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["prompt_tokens"] == PROMPT_TOKENS
    assert usage_chunk["usage"]["completion_tokens"] == 5
    assert usage_chunk["usage"]["cost"] == fake_cost(PROMPT_TOKENS, 5)
    assert json.loads(frames[-3])["choices"][0]["finish_reason"] == "stop"


def test_each_sse_frame_is_its_own_http_chunk(upstream: FakeUpstreamHandle) -> None:
    raw = raw_exchange(upstream, raw_post("/api/v1/chat/completions", {"messages": MESSAGES, "stream": True}))

    chunks = http_chunks(raw)
    assert chunks[0] == b": OPENROUTER PROCESSING\n\n"
    assert all(chunk.endswith(b"\n\n") and chunk.count(b"\n\n") == 1 for chunk in chunks)
    assert chunks[-1] == b"data: [DONE]\n\n"


# ---- knobs ------------------------------------------------------------------------------------------


def test_knob_latency_delays_the_headers(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    started = time.monotonic()
    response = chat(client, upstream, fake={"latency_ms": 300})

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.29  # timers may round a millisecond down


def test_knob_chunks(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    body = chat(client, upstream, fake={"chunks": 2}).json()
    _, _, frames = stream_chat(client, upstream, fake={"chunks": 12})

    assert body["choices"][0]["message"]["content"] == "chunk0 chunk1"
    assert body["usage"]["completion_tokens"] == 2
    assert len(frames) == 12 + 2


def test_knob_chunk_delay_spaces_the_frames(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    arrivals = []
    body = {"messages": MESSAGES, "stream": True, "fake": {"chunks": 3, "chunk_delay_ms": 100}}
    with client.stream("POST", f"{upstream.base_url}/chat/completions", json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.monotonic())

    assert len(arrivals) == 3 + 2
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.07


@pytest.mark.parametrize("status", [400, 402, 429, 502, 503])
def test_knob_status_gives_an_openrouter_error(client: httpx.Client, upstream: FakeUpstreamHandle, status: int) -> None:
    response = chat(client, upstream, stream=True, fake={"status": status, "error_message": "nope"})

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["message"] == "nope"
    assert error["code"] == status
    assert isinstance(error["metadata"], dict)


def test_knob_error_metadata_and_headers(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    fake = {"status": 429, "error_metadata": {"retry_after": 3}, "headers": {"Retry-After": "3"}}
    response = chat(client, upstream, fake=fake)

    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["metadata"] == {"retry_after": 3}


def test_knob_error_200_whitespace(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    response = chat(client, upstream, fake={"error_200_whitespace": True, "error_message": "overloaded"})

    assert response.status_code == 200
    assert response.text[0] in " \n"
    assert response.text.lstrip() != response.text
    assert json.loads(response.text) == {"error": {"message": "overloaded", "code": 502}}


def test_knob_fail_after_chunks_closes_the_stream(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    lines: list[str] = []
    body = {"messages": MESSAGES, "stream": True, "fake": {"fail_after_chunks": 2}}
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", f"{upstream.base_url}/chat/completions", json=body) as response,
    ):
        lines.extend(response.iter_lines())

    frames = [line[len("data: ") :] for line in lines if line.startswith("data: ")]
    assert [json.loads(f)["choices"][0]["delta"]["content"] for f in frames] == ["chunk0", " chunk1"]
    stats = upstream.wait_for_stats(lambda s: s["open_connections"] == 0)
    assert stats["aborted_streams"] == 0  # the fake hung up, not the client


def test_knob_mid_stream_error(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    _, _, frames = stream_chat(
        client,
        upstream,
        stream_options={"include_usage": True},
        fake={"chunks": 4, "mid_stream_error": True, "error_message": "provider went away"},
    )

    assert frames[-1] == "[DONE]"
    contents = [json.loads(f)["choices"][0]["delta"]["content"] for f in frames[:-2]]
    assert contents == ["chunk0", " chunk1"]
    error = json.loads(frames[-2])
    assert error["error"] == {"message": "provider went away", "code": 502}
    assert error["choices"] == [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]


def test_knob_mid_stream_error_after_n_chunks(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    _, _, frames = stream_chat(client, upstream, fake={"chunks": 4, "mid_stream_error": 3})

    assert len(frames) == 3 + 2
    assert "error" in json.loads(frames[-2])


def test_knob_hang_never_answers(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            f"{upstream.base_url}/chat/completions",
            json={"messages": MESSAGES, "fake": {"hang": True}},
            timeout=0.3,
        )

    assert len(upstream.requests()) == 1
    upstream.wait_for_stats(lambda s: s["open_connections"] == 0)


def test_knob_drop_closes_without_answering(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        chat(client, upstream, fake={"drop": True})


def test_knob_split_frames_cuts_every_frame_in_two(upstream: FakeUpstreamHandle) -> None:
    body = {"messages": MESSAGES, "stream": True, "fake": {"split_frames": True, "chunks": 3}}
    raw = raw_exchange(upstream, raw_post("/api/v1/chat/completions", body))

    chunks = http_chunks(raw)
    frames = b"".join(chunks).split(b"\n\n")[:-1]
    assert len(chunks) == 2 * len(frames)
    assert not any(chunk.endswith(b"\n\n") for chunk in chunks[0::2])
    assert [json.loads(f[len(b"data: ") :]) for f in frames[1:-1]]  # reassembled, they are whole JSON
    assert frames[-1] == b"data: [DONE]"


def test_split_frames_reassemble_for_a_client(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    _, _, frames = stream_chat(client, upstream, fake={"split_frames": True, "chunks": 3})

    assert frames[-1] == "[DONE]"
    assert [json.loads(f)["object"] for f in frames[:-1]] == ["chat.completion.chunk"] * 4


def test_knob_cost_and_system_fingerprint(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    body = chat(client, upstream, fake={"cost": 0.5, "system_fingerprint": "fp_fake"}).json()
    _, _, frames = stream_chat(client, upstream, usage={"include": True}, fake={"system_fingerprint": "fp_fake"})

    assert body["usage"]["cost"] == 0.5
    assert body["system_fingerprint"] == "fp_fake"
    assert all(json.loads(f)["system_fingerprint"] == "fp_fake" for f in frames[:-1])


TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
]


def test_knob_tool_call_answers_with_a_signed_call(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    knob = {"name": "get_weather", "arguments": {"city": "Paris"}}
    body = chat(client, upstream, tools=TOOLS, fake={"tool_call": knob}).json()
    planned = planned_tool_call({"tools": TOOLS, "messages": MESSAGES}, knob)
    assert planned is not None and planned["arguments"] == '{"city":"Paris"}'
    assert planned["id"].startswith("call_") and planned["signature"].startswith("sig-")
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == ""
    assert choice["message"]["tool_calls"] == [
        {"id": planned["id"], "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
    ]
    assert choice["message"]["reasoning_details"] == [
        {
            "type": "reasoning.encrypted",
            "data": planned["signature"],
            "id": planned["id"],
            "format": "google-gemini-v1",
            "index": 0,
        }
    ]
    assert body["usage"]["completion_tokens"] == 5

    first_tool = chat(client, upstream, tools=TOOLS, fake={"tool_call": True}).json()["choices"][0]["message"]
    assert first_tool["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": "{}"}
    answered = [*MESSAGES, {"role": "assistant", "tool_calls": choice["message"]["tool_calls"]}]
    answered.append({"role": "tool", "tool_call_id": planned["id"], "content": "sunny"})
    for request in ({"messages": answered, "tools": TOOLS}, {"tools": []}, {}):
        fields = {"messages": MESSAGES, **request, "fake": {"tool_call": knob}}
        plain = client.post(f"{upstream.base_url}/chat/completions", json=fields)
        assert plain.json()["choices"][0]["message"]["content"] == completion_text(5)
        assert "tool_calls" not in plain.json()["choices"][0]["message"]


def test_knob_tool_call_streams_the_arguments_in_pieces(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    upstream.configure(tool_call={"name": "get_time", "arguments": {"zone": "UTC", "format": "24h"}})
    _, _, frames = stream_chat(client, upstream, tools=TOOLS, stream_options={"include_usage": True})
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert calls[0]["id"].startswith("call_") and calls[0]["function"]["name"] == "get_time"
    pieces = [c["function"]["arguments"] for c in calls[1:]]
    assert len(pieces) >= 2 and all(pieces)
    assert "".join(pieces) == '{"zone":"UTC","format":"24h"}'
    [details] = [d["reasoning_details"] for d in deltas if "reasoning_details" in d]
    assert details[0]["type"] == "reasoning.encrypted" and details[0]["data"].startswith("sig-")
    assert details[0]["id"] == calls[0]["id"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["completion_tokens"] == 5
    assert not any("content" in d and d["content"] for d in deltas)


def test_knob_reasoning_and_reasoning_requests(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    words = len(reasoning_words(REASONING_TEXT))
    body = chat(client, upstream, fake={"reasoning": True}).json()
    assert body["choices"][0]["message"]["reasoning"] == REASONING_TEXT
    assert body["choices"][0]["message"]["content"] == completion_text(5)
    assert body["usage"]["completion_tokens"] == 5 + words
    assert body["usage"]["completion_tokens_details"] == {"reasoning_tokens": words}
    assert body["usage"]["cost"] == fake_cost(PROMPT_TOKENS, 5 + words)
    custom = chat(client, upstream, fake={"reasoning": "a b"}).json()["choices"][0]["message"]
    assert custom["reasoning"] == "a b"
    for asked, expected in (
        ({"reasoning": {"effort": "high"}}, REASONING_TEXT),
        ({"reasoning": {"max_tokens": 100}}, REASONING_TEXT),
        ({"include_reasoning": True}, REASONING_TEXT),
        ({"reasoning": {"effort": "none"}}, None),
        ({"reasoning": {"enabled": False}}, None),
        ({"reasoning": {"effort": "low", "exclude": True}}, None),
        ({}, None),
    ):
        assert chat(client, upstream, **asked).json()["choices"][0]["message"]["reasoning"] == expected, asked

    _, _, frames = stream_chat(client, upstream, reasoning={"enabled": True}, stream_options={"include_usage": True})
    chunks = [json.loads(f) for f in frames[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert "".join(d.get("reasoning", "") for d in deltas) == REASONING_TEXT
    assert "".join(d.get("content") or "" for d in deltas) == completion_text(5)
    first_content = next(i for i, d in enumerate(deltas) if d.get("content"))
    assert all("reasoning" in d for d in deltas[:first_content])
    assert chunks[-1]["usage"]["completion_tokens_details"] == {"reasoning_tokens": words}

    _, _, frames = stream_chat(client, upstream, tools=TOOLS, fake={"tool_call": True, "reasoning": True})
    deltas = [json.loads(f)["choices"][0]["delta"] for f in frames[:-1]]
    assert "".join(d.get("reasoning", "") for d in deltas) == REASONING_TEXT
    assert any("tool_calls" in d for d in deltas)
    signed = chat(client, upstream, tools=TOOLS, fake={"tool_call": True, "reasoning": True}).json()
    details = signed["choices"][0]["message"]["reasoning_details"]
    assert [d["type"] for d in details] == ["reasoning.text", "reasoning.encrypted"]
    assert [d["index"] for d in details] == [0, 1]


def test_unknown_or_mistyped_knob_is_a_400(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    typo = chat(client, upstream, fake={"latncy_ms": 5})
    mistyped = chat(client, upstream, fake={"chunks": "3"})

    assert typo.status_code == 400
    assert "latncy_ms" in typo.json()["error"]["message"]
    assert mistyped.status_code == 400


def test_model_name_triggers(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    failed = chat(client, upstream, model="fake/error-503")

    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == 503
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            f"{upstream.base_url}/chat/completions",
            json={"messages": MESSAGES, "model": "fake/hang"},
            timeout=0.3,
        )


def test_server_wide_knobs_from_the_helper_and_configure(client: httpx.Client) -> None:
    with start_fake_upstream(chunks=2, latency_ms=0) as upstream:
        assert chat(client, upstream).json()["usage"]["completion_tokens"] == 2
        assert chat(client, upstream, fake={"chunks": 3}).json()["usage"]["completion_tokens"] == 3

        upstream.configure(status=503)
        assert client.get(f"{upstream.base_url}/models").status_code == 503
        upstream.reset_config()
        assert client.get(f"{upstream.base_url}/models").status_code == 200
        assert chat(client, upstream).json()["usage"]["completion_tokens"] == 2


def test_helper_rejects_an_unknown_knob() -> None:
    with pytest.raises(ValueError, match="unknown knob"):
        start_fake_upstream(lantency_ms=3)


# ---- image generation ----------------------------------------------------------------------------

IMAGE_MODEL = "google/gemini-2.5-flash-image"


def _decoded_png(url: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    return base64.b64decode(url[len(prefix) :], validate=True)


def _png_pixels(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and raw scanlines of a PNG, checking every chunk's CRC on the way."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks[kind] = chunks.get(kind, b"") + data
        pos += 12 + length
    assert set(chunks) == {b"IHDR", b"IDAT", b"IEND"}
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 2)
    return width, height, zlib.decompress(chunks[b"IDAT"])


@pytest.mark.parametrize("model", [IMAGE_MODEL, "qwen/qwen3-32b"])
def test_image_modality_answers_with_a_real_png(client: httpx.Client, upstream: FakeUpstreamHandle, model: str) -> None:
    response = chat(client, upstream, model=model, modalities=["image", "text"], image_config={"aspect_ratio": "16:9"})

    assert response.status_code == 200
    body = response.json()
    message = body["choices"][0]["message"]
    assert message["content"] == IMAGE_TEXT
    [image] = message["images"]
    assert image["type"] == "image_url"
    png = _decoded_png(image["image_url"]["url"])
    width, height, rows = _png_pixels(png)
    assert (width, height) == (8, 8)
    assert rows == (b"\x00" + bytes(IMAGE_COLOR) * 8) * 8
    assert body["usage"]["completion_tokens"] == IMAGE_TOKENS
    assert body["usage"]["completion_tokens_details"]["image_tokens"] == IMAGE_TOKENS
    assert body["usage"]["cost"] == fake_cost(PROMPT_TOKENS, IMAGE_TOKENS)


def test_without_the_image_modality_the_image_model_writes_text(
    client: httpx.Client, upstream: FakeUpstreamHandle
) -> None:
    for extra in ({}, {"modalities": ["text"]}, {"modalities": "image"}):
        message = chat(client, upstream, model=IMAGE_MODEL, **extra).json()["choices"][0]["message"]
        assert "images" not in message
        assert message["content"] == completion_text(5)


def test_images_stream_in_their_own_delta(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    _, _, frames = stream_chat(
        client, upstream, model=IMAGE_MODEL, modalities=["image", "text"], stream_options={"include_usage": True}
    )

    assert frames[-1] == "[DONE]"
    chunks = [json.loads(frame) for frame in frames[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": IMAGE_TEXT}
    assert deltas[1]["content"] == ""
    [image] = deltas[1]["images"]
    assert _png_pixels(_decoded_png(image["image_url"]["url"]))[:2] == (8, 8)
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == IMAGE_TOKENS
    assert chunks[-1]["usage"]["cost"] == fake_cost(PROMPT_TOKENS, IMAGE_TOKENS)


def test_image_answers_honour_the_knobs(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    priced = chat(client, upstream, modalities=["image"], fake={"cost": 0.04}).json()
    failed = chat(client, upstream, modalities=["image"], fake={"status": 503})
    _, _, frames = stream_chat(client, upstream, modalities=["image"], fake={"mid_stream_error": True})

    assert priced["usage"]["cost"] == 0.04
    assert failed.status_code == 503
    assert json.loads(frames[0])["choices"][0]["delta"]["content"] == IMAGE_TEXT
    assert "error" in json.loads(frames[1])  # cut after the text, before the image
    assert not any("images" in frame for frame in frames)


# ---- other endpoints ------------------------------------------------------------------------------


def test_models_list(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    models = client.get(f"{upstream.base_url}/models").json()["data"]

    ids = {m["id"] for m in models}
    assert {
        "openai/gpt-4o-mini",
        "qwen/qwen3-32b",
        "google/gemini-2.5-flash-image",
        "anthropic/claude-3.5-sonnet",
    } <= ids
    assert models == CHAT_MODELS
    for model in models:
        assert set(model) >= {
            "id",
            "canonical_slug",
            "name",
            "created",
            "description",
            "context_length",
            "architecture",
            "pricing",
            "top_provider",
            "per_request_limits",
            "supported_parameters",
        }
        assert model["pricing"] == {
            "prompt": "0.000001",
            "completion": "0.000002",
            "request": "0",
            "image": "0",
        }
        assert set(model["architecture"]) >= {
            "modality",
            "input_modalities",
            "output_modalities",
            "tokenizer",
        }
        assert set(model["top_provider"]) == {"context_length", "max_completion_tokens", "is_moderated"}


def test_embedding_models_and_embeddings(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    models = client.get(f"{upstream.openai_base_url}/embeddings/models").json()["data"]
    first = client.post(f"{upstream.base_url}/embeddings", json={"input": ["hello world", "bye"]}).json()
    again = client.post(f"{upstream.base_url}/embeddings", json={"input": "hello world"}).json()

    assert [m["id"] for m in models] == ["openai/text-embedding-3-small"]
    assert first["object"] == "list"
    assert first["model"] == "openai/text-embedding-3-small"
    assert [d["index"] for d in first["data"]] == [0, 1]
    assert all(len(d["embedding"]) == 8 and d["object"] == "embedding" for d in first["data"])
    assert again["data"][0]["embedding"] == first["data"][0]["embedding"]  # deterministic
    assert first["usage"] == {"prompt_tokens": 3, "total_tokens": 3, "cost": fake_cost(3)}


def test_moderations_flag_violence(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    url = f"{upstream.base_url}/moderations"
    body = client.post(url, json={"input": ["I will kill the process", "a calm sentence"]}).json()
    parts = [{"type": "text", "text": "calm"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    multimodal = client.post(url, json={"input": parts, "model": "omni-moderation-latest"}).json()

    assert body["id"].startswith("modr-")
    assert body["model"] == "omni-moderation-latest"
    violent, calm = body["results"]
    assert violent["flagged"] is True
    assert violent["categories"]["violence"] is True
    assert violent["category_scores"]["violence"] > 0.5
    assert sum(violent["categories"].values()) == 1
    assert calm["flagged"] is False
    assert violent["category_applied_input_types"]["violence"] == ["text"]
    assert len(multimodal["results"]) == 1
    assert multimodal["results"][0]["category_applied_input_types"]["violence"] == ["text", "image"]


def test_unknown_path_and_wrong_method(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    missing = client.get(f"{upstream.base_url}/nothing-here")
    wrong = client.get(f"{upstream.base_url}/chat/completions")

    assert missing.status_code == 404
    assert missing.json() == {"error": {"message": "Not Found", "code": 404}}
    assert wrong.status_code == 405


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2]", b"", b'{"messages": "not a list"}'],
    ids=["broken", "array", "empty", "bad"],
)
def test_malformed_body_is_a_400(client: httpx.Client, upstream: FakeUpstreamHandle, content: bytes) -> None:
    response = client.post(
        f"{upstream.base_url}/chat/completions", content=content, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400
    assert error["message"]


# ---- recording, stats, auth -----------------------------------------------------------------------


def test_requests_are_recorded_byte_for_byte(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    raw = b'{"messages":[{"role":"user","content":"caf\xc3\xa9"}],  "extra_field" : 1}'
    client.post(
        f"{upstream.base_url}/chat/completions?x=1",
        content=raw,
        headers={"Authorization": "Bearer sk-or-abc", "Content-Type": "application/json", "X-Title": "t"},
    )

    (recorded,) = upstream.requests()
    assert recorded.method == "POST"
    assert recorded.path == "/api/v1/chat/completions?x=1"
    assert recorded.headers["authorization"] == "Bearer sk-or-abc"
    assert recorded.headers["x-title"] == "t"
    assert recorded.body_bytes == raw
    assert recorded.json()["extra_field"] == 1


def test_undecodable_body_is_kept_exactly(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    raw = b'{"messages": [], "x": "\xff\xfe"}'
    response = client.post(f"{upstream.base_url}/chat/completions", content=raw)

    assert response.status_code == 400
    assert upstream.last_request().body_bytes == raw


def test_chunked_request_body(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    pieces = [b'{"messages": [{"role": "user", ', b'"content": "streamed request body"}]', b"}"]
    response = client.post(f"{upstream.base_url}/chat/completions", content=iter(pieces))

    assert response.status_code == 200
    recorded = upstream.last_request()
    assert recorded.headers["transfer-encoding"] == "chunked"
    assert recorded.body_bytes == b"".join(pieces)


def test_clear_and_ring_buffer(client: httpx.Client, upstream: FakeUpstreamHandle) -> None:
    for index in range(205):
        client.get(f"{upstream.base_url}/models?n={index}")

    received = upstream.requests()
    assert len(received) == 200
    assert received[0].path.endswith("?n=5")
    assert received[-1].path.endswith("?n=204")
    assert len({r.connection_id for r in received}) == 1  # httpx kept the connection alive
    upstream.clear()
    assert upstream.requests() == []


def test_pipelined_requests_are_answered_in_order(upstream: FakeUpstreamHandle) -> None:
    first = b"GET /v1/models HTTP/1.1\r\nHost: fake\r\n\r\n"
    second = raw_post("/v1/chat/completions", {"messages": MESSAGES, "fake": {"latency_ms": 50}})
    third = b"GET /v1/nothing HTTP/1.1\r\nHost: fake\r\nConnection: close\r\n\r\n"
    raw = raw_exchange(upstream, first + second.replace(b"Connection: close\r\n", b"") + third)

    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", raw) == [b"200", b"200", b"404"]


def test_stats_count_connections_and_streams(upstream: FakeUpstreamHandle) -> None:
    before = upstream.stats()
    body = {"messages": MESSAGES, "stream": True, "fake": {"chunks": 50, "chunk_delay_ms": 30}}
    with httpx.Client(timeout=10) as c:
        stream_chat(c, upstream)
        assert upstream.stats()["open_connections"] == 1  # the kept-alive connection, not stats' own
        with c.stream("POST", f"{upstream.base_url}/chat/completions", json=body) as response:
            next(response.iter_lines())
        # leaving the block unread closes the connection: the client aborted the stream

    stats = upstream.wait_for_stats(lambda s: s["aborted_streams"] == before["aborted_streams"] + 1)
    assert stats["completed_streams"] == before["completed_streams"] + 1
    assert upstream.wait_for_stats(lambda s: s["open_connections"] == 0)


def test_api_key_is_required_when_set(client: httpx.Client) -> None:
    with start_fake_upstream(api_key="sk-upstream") as upstream:
        url = f"{upstream.base_url}/chat/completions"
        missing = client.post(url, json={"messages": MESSAGES})
        wrong = client.post(url, json={"messages": MESSAGES}, headers={"Authorization": "Bearer nope"})
        right = client.post(url, json={"messages": MESSAGES}, headers={"Authorization": "Bearer sk-upstream"})

        assert missing.status_code == 401
        assert missing.json() == {"error": {"message": "No auth credentials found", "code": 401}}
        assert wrong.status_code == 401
        assert right.status_code == 200
        assert [r.headers.get("authorization") for r in upstream.requests()] == [
            None,
            "Bearer nope",
            "Bearer sk-upstream",
        ]


def test_command_line_flags() -> None:
    command = [sys.executable, "-m", "tests.fakes.upstream", "--port", "0", "--chunks", "3"]
    command += ["--latency-ms", "1", "--chunk-delay-ms", "1", "--api-key", "k"]
    with subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True) as process:  # noqa: S603
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            assert line.startswith("fake upstream listening on http://127.0.0.1:")
            url = line.rpartition(" ")[2]
            response = httpx.post(
                f"{url}/api/v1/chat/completions",
                json={"messages": MESSAGES, "stream": True},
                headers={"Authorization": "Bearer k"},
            )
            assert len(sse_data(response.text)) == 3 + 2
        finally:
            process.terminate()
    assert process.returncode == 0


def test_server_exits_when_its_parent_goes_away() -> None:
    upstream = start_fake_upstream()
    assert upstream.process.stdin is not None
    upstream.process.stdin.close()  # what the OS does when the test process dies

    assert upstream.process.wait(timeout=5) == 0
    upstream.stop()
