"""OpenRouterUpstream against the fake OpenRouter server, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from application.ports.upstream import StreamChunk, UpstreamError
from domain.money import usd_to_micros
from domain.pricing import Usage
from infrastructure.upstream.openrouter import OpenRouterStream, OpenRouterUpstream
from tests.fakes.upstream import (
    FakeUpstreamHandle,
    completion_text,
    count_prompt_tokens,
    fake_cost,
    start_fake_upstream,
)

UPSTREAM_KEY = "sk-or-gateway-key"
MESSAGES = [{"role": "user", "content": "Tell me something about the sea, briefly."}]
PROMPT_TOKENS = count_prompt_tokens(MESSAGES)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstreamHandle]:
    with start_fake_upstream(api_key=UPSTREAM_KEY) as handle:
        yield handle


@pytest.fixture(autouse=True)
def _fresh(fake: FakeUpstreamHandle) -> None:
    fake.reset_config()
    fake.clear()


@pytest.fixture
async def upstream(fake: FakeUpstreamHandle) -> AsyncIterator[OpenRouterUpstream]:
    client = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY, referer="https://sluice.test", title="Sluice tests")
    yield client
    await client.aclose()


def chat(stream: bool = False, **knobs: Any) -> bytes:
    body: dict[str, Any] = {"model": "openai/gpt-4o-mini", "messages": MESSAGES}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if knobs:
        body["fake"] = knobs
    return json.dumps(body).encode()


async def collect(stream: OpenRouterStream) -> list[StreamChunk]:
    return [frame async for frame in stream]


async def stats_when(fake: FakeUpstreamHandle, predicate: Callable[[dict[str, int]], bool]) -> dict[str, int]:
    """Polls the fake's counters, letting this event loop run in between (a socket closes on a later turn)."""
    deadline = time.monotonic() + 5
    while True:
        stats = fake.stats()
        if predicate(stats):
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(f"fake upstream stats never matched: {stats}")
        await asyncio.sleep(0.02)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- complete() ------------------------------------------------------------------------------


async def test_completion_adds_system_fingerprint_and_reads_usage(
    upstream: OpenRouterUpstream, fake: FakeUpstreamHandle
) -> None:
    reply = await upstream.complete("/chat/completions", chat(chunks=4))

    assert reply.status == 200
    assert reply.content_type.startswith("application/json")
    assert reply.body.startswith(b'{"system_fingerprint":null,')
    assert reply.usage == Usage(PROMPT_TOKENS, 4, usd_to_micros(fake_cost(PROMPT_TOKENS, 4)))
    body = json.loads(reply.body)
    assert body["system_fingerprint"] is None
    assert body["choices"][0]["message"]["content"] == completion_text(4)

    # Apart from the added member, what the upstream sent (ids and times differ per call).
    with httpx.Client() as direct:
        answer = direct.post(
            f"{fake.base_url}/chat/completions",
            content=chat(chunks=4),
            headers={"Authorization": f"Bearer {UPSTREAM_KEY}", "Content-Type": "application/json"},
        ).json()
    for obj in (body, answer):
        obj.pop("id")
        obj.pop("created")
    body.pop("system_fingerprint")
    assert body == answer


async def test_an_existing_system_fingerprint_is_left_alone(upstream: OpenRouterUpstream) -> None:
    reply = await upstream.complete("/chat/completions", chat(system_fingerprint="fp_123"))
    assert reply.body.count(b"system_fingerprint") == 1
    assert json.loads(reply.body)["system_fingerprint"] == "fp_123"


async def test_other_endpoints_get_no_fingerprint(upstream: OpenRouterUpstream) -> None:
    body = json.dumps({"model": "openai/text-embedding-3-small", "input": "abcdefgh"}).encode()
    reply = await upstream.complete("/embeddings", body)
    assert b"system_fingerprint" not in reply.body
    assert reply.usage == Usage(2, 0, usd_to_micros(fake_cost(2)))


async def test_the_body_reaches_the_upstream_byte_for_byte(
    upstream: OpenRouterUpstream, fake: FakeUpstreamHandle
) -> None:
    sent = (
        b'{ "model" : "openai/gpt-4o-mini",\n "messages": [{"role":"user","content":"caf\\u00e9 \xe2\x98\x95"}],'
        b' "x_vendor_field": {"deep": [1, 2.50, null, true]}, "provider": {"order": ["Fake"]},'
        b' "temperature": 0.70 }'
    )
    await upstream.complete("/chat/completions", sent)
    recorded = fake.last_request()
    assert recorded.body_bytes == sent
    assert recorded.path == "/api/v1/chat/completions"


async def test_the_upstream_sees_the_gateway_key_and_attribution(
    upstream: OpenRouterUpstream, fake: FakeUpstreamHandle
) -> None:
    await upstream.complete("/chat/completions", chat())
    headers = fake.last_request().headers
    assert headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert headers["content-type"] == "application/json"
    assert headers["http-referer"] == "https://sluice.test"
    assert headers["x-title"] == "Sluice tests"


async def test_connections_are_reused(upstream: OpenRouterUpstream, fake: FakeUpstreamHandle) -> None:
    for _ in range(5):
        await upstream.complete("/chat/completions", chat())
    assert len({r.connection_id for r in fake.requests()}) == 1


@pytest.mark.parametrize("status", [400, 404, 413, 422, 429])
async def test_client_errors_keep_their_status_and_message(upstream: OpenRouterUpstream, status: int) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstream.complete("/chat/completions", chat(status=status, error_message=f"bad thing {status}"))
    error = caught.value
    assert (error.status, error.kind, error.message) == (status, "status_4xx", f"bad thing {status}")
    assert error.body is not None and json.loads(error.body)["error"]["code"] == status


@pytest.mark.parametrize("status", [401, 402, 403])
async def test_credential_errors_are_the_gateways_fault(upstream: OpenRouterUpstream, status: int) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstream.complete("/chat/completions", chat(status=status, error_message="Invalid key sk-or-..."))
    error = caught.value
    assert (error.status, error.kind) == (502, "status_4xx")
    assert "gateway" in error.message and f"HTTP {status}" in error.message
    assert "sk-or-" not in error.message


async def test_a_wrong_gateway_key_is_a_502(fake: FakeUpstreamHandle) -> None:
    client = OpenRouterUpstream(fake.base_url, "sk-wrong")
    try:
        with pytest.raises(UpstreamError) as caught:
            await client.complete("/chat/completions", chat())
    finally:
        await client.aclose()
    assert (caught.value.status, caught.value.kind) == (502, "status_4xx")


async def test_a_moderation_403_is_the_clients(upstream: OpenRouterUpstream) -> None:
    metadata = {"reasons": ["violence"], "flagged_input": "...", "provider_name": "Fake"}
    with pytest.raises(UpstreamError) as caught:
        await upstream.complete(
            "/chat/completions", chat(status=403, error_message="Input flagged", error_metadata=metadata)
        )
    assert (caught.value.status, caught.value.kind, caught.value.message) == (403, "status_4xx", "Input flagged")


@pytest.mark.parametrize(("status", "expected"), [(500, 502), (502, 502), (503, 503), (504, 504), (529, 502)])
async def test_server_errors(upstream: OpenRouterUpstream, status: int, expected: int) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstream.complete("/chat/completions", chat(status=status, error_message="down"))
    assert (caught.value.status, caught.value.kind, caught.value.message) == (expected, "status_5xx", "down")


async def test_a_200_of_whitespace_then_an_error(upstream: OpenRouterUpstream) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstream.complete("/chat/completions", chat(error_200_whitespace=True, error_message="late failure"))
    assert (caught.value.status, caught.value.kind, caught.value.message) == (502, "status_5xx", "late failure")


async def test_hang_is_a_504(fake: FakeUpstreamHandle) -> None:
    client = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY, timeout_read=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamError) as caught:
            await client.complete("/chat/completions", chat(hang=True))
    finally:
        await client.aclose()
    assert (caught.value.status, caught.value.kind) == (504, "timeout")
    assert time.monotonic() - started < 3


async def test_a_dropped_connection_is_a_502(upstream: OpenRouterUpstream) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstream.complete("/chat/completions", chat(drop=True))
    assert (caught.value.status, caught.value.kind) == (502, "disconnected")


async def test_a_closed_port_is_a_503() -> None:
    client = OpenRouterUpstream(f"http://127.0.0.1:{closed_port()}/api/v1", UPSTREAM_KEY)
    try:
        with pytest.raises(UpstreamError) as caught:
            await client.complete("/chat/completions", chat())
        assert (caught.value.status, caught.value.kind) == (503, "connect")
        with pytest.raises(UpstreamError) as caught:
            await client.stream("/chat/completions", chat(stream=True))
        assert (caught.value.status, caught.value.kind) == (503, "connect")
    finally:
        await client.aclose()


async def test_list_models_returns_the_raw_bytes(upstream: OpenRouterUpstream, fake: FakeUpstreamHandle) -> None:
    with httpx.Client() as direct:
        expected = direct.get(f"{fake.base_url}/models", headers={"Authorization": f"Bearer {UPSTREAM_KEY}"})
    assert await upstream.list_models("/models") == expected.content
    with pytest.raises(UpstreamError) as caught:
        await upstream.list_models("/no-such-list")
    assert (caught.value.status, caught.value.kind) == (404, "status_4xx")


# ---- stream() --------------------------------------------------------------------------------


async def test_a_stream_in_frames(upstream: OpenRouterUpstream, fake: FakeUpstreamHandle) -> None:
    before = fake.stats()
    stream = await upstream.stream("/chat/completions", chat(stream=True, chunks=3))
    assert stream.status == 200
    frames = await collect(stream)
    await stream.aclose()

    assert frames[0].raw == b": OPENROUTER PROCESSING\n\n"
    assert all(frame.raw.endswith(b"\n\n") for frame in frames)
    assert sum(frame.content_chars for frame in frames) == len(completion_text(3))
    usage_frames = [frame for frame in frames if frame.usage is not None]
    assert len(usage_frames) == 1 and usage_frames[0].report_only
    assert usage_frames[0].usage == Usage(PROMPT_TOKENS, 3, usd_to_micros(fake_cost(PROMPT_TOKENS, 3)))
    assert frames[-1].last and frames[-1].raw == b"data: [DONE]\n\n"
    assert not any(frame.error for frame in frames)
    request = fake.last_request()
    assert request.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert request.body_bytes == chat(stream=True, chunks=3)
    stats = await stats_when(fake, lambda s: s["completed_streams"] > before["completed_streams"])
    assert stats["aborted_streams"] == before["aborted_streams"]


async def test_frames_arrive_as_they_are_sent(upstream: OpenRouterUpstream) -> None:
    started = time.monotonic()
    stream = await upstream.stream("/chat/completions", chat(stream=True, chunks=6, chunk_delay_ms=150))
    arrivals: list[tuple[float, StreamChunk]] = []
    async for frame in stream:
        arrivals.append((time.monotonic() - started, frame))
    await stream.aclose()
    first_content = next(at for at, frame in arrivals if frame.content_chars)
    last = arrivals[-1][0]
    # 9 frames 150 ms apart: the first word comes ~0.3 s in, [DONE] ~1.35 s in; buffered, they would come together.
    assert last - first_content > 0.7


async def test_split_frames_are_reassembled(upstream: OpenRouterUpstream) -> None:
    stream = await upstream.stream("/chat/completions", chat(stream=True, chunks=4, split_frames=True))
    frames = await collect(stream)
    await stream.aclose()
    data = [frame.raw for frame in frames if frame.raw.startswith(b"data: {")]
    assert len(data) == 4 + 1 + 1  # words, finish, usage
    for raw in data:
        json.loads(raw[6:])
    assert sum(frame.content_chars for frame in frames) == len(completion_text(4))
    assert frames[-1].last


async def test_a_stream_that_breaks_off(upstream: OpenRouterUpstream, fake: FakeUpstreamHandle) -> None:
    stream = await upstream.stream("/chat/completions", chat(stream=True, chunks=5, fail_after_chunks=2))
    delivered: list[StreamChunk] = []
    with pytest.raises(UpstreamError) as caught:
        async for frame in stream:
            delivered.append(frame)
    await stream.aclose()
    assert (caught.value.status, caught.value.kind, caught.value.message) == (
        502,
        "stream_broken",
        "upstream stream ended early",
    )
    assert [frame.content_chars for frame in delivered] == [0, len("chunk0"), len(" chunk1")]


async def test_a_mid_stream_error_is_a_frame(upstream: OpenRouterUpstream) -> None:
    stream = await upstream.stream(
        "/chat/completions", chat(stream=True, chunks=4, mid_stream_error=True, error_message="provider fell over")
    )
    frames = await collect(stream)
    await stream.aclose()
    errors = [frame for frame in frames if frame.error]
    assert len(errors) == 1 and errors[0].error == "provider fell over"
    assert b"provider fell over" in errors[0].raw
    assert frames[-1].last


async def test_aclose_mid_stream_aborts_the_upstream(upstream: OpenRouterUpstream, fake: FakeUpstreamHandle) -> None:
    before = fake.stats()
    stream = await upstream.stream("/chat/completions", chat(stream=True, chunks=100, chunk_delay_ms=50))
    seen = 0
    async for frame in stream:
        seen += frame.content_chars > 0
        if seen == 2:
            break
    await stream.aclose()
    stats = await stats_when(fake, lambda s: s["aborted_streams"] > before["aborted_streams"])
    assert stats["completed_streams"] == before["completed_streams"]
    assert stats["open_connections"] == 0


async def test_the_connection_is_reused_after_a_finished_stream(
    upstream: OpenRouterUpstream, fake: FakeUpstreamHandle
) -> None:
    before = fake.stats()
    for _ in range(3):
        stream = await upstream.stream("/chat/completions", chat(stream=True, chunks=2))
        async for frame in stream:
            if frame.last:
                break  # as the relay does: no reading past [DONE]
        await stream.aclose()
    assert len({r.connection_id for r in fake.requests()}) == 1
    stats = await stats_when(fake, lambda s: s["completed_streams"] == before["completed_streams"] + 3)
    assert stats["aborted_streams"] == before["aborted_streams"]


@pytest.mark.parametrize(("status", "expected"), [(429, 429), (401, 502), (500, 502), (503, 503)])
async def test_a_stream_that_cannot_open(upstream: OpenRouterUpstream, status: int, expected: int) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstream.stream("/chat/completions", chat(stream=True, status=status, error_message="no"))
    assert caught.value.status == expected


async def test_a_stream_answered_with_a_whitespace_error(upstream: OpenRouterUpstream) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstream.stream("/chat/completions", chat(stream=True, error_200_whitespace=True, error_message="x"))
    assert (caught.value.status, caught.value.kind, caught.value.message) == (502, "status_5xx", "x")


async def test_a_stream_that_never_starts_is_a_504(fake: FakeUpstreamHandle) -> None:
    client = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY, first_byte_timeout=0.3)
    try:
        with pytest.raises(UpstreamError) as caught:
            await client.stream("/chat/completions", chat(stream=True, hang=True))
    finally:
        await client.aclose()
    assert (caught.value.status, caught.value.kind) == (504, "timeout")


async def test_a_stalled_stream_is_a_504(fake: FakeUpstreamHandle) -> None:
    client = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY, stream_idle_timeout=0.3)
    try:
        stream = await client.stream("/chat/completions", chat(stream=True, chunks=3, chunk_delay_ms=1000))
        with pytest.raises(UpstreamError) as caught:
            await collect(stream)
        await stream.aclose()
    finally:
        await client.aclose()
    assert (caught.value.status, caught.value.kind) == (504, "timeout")


async def test_the_default_httpx_transport_behaves_the_same(fake: FakeUpstreamHandle) -> None:
    client = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY, transport=httpx.AsyncHTTPTransport())
    try:
        reply = await client.complete("/chat/completions", chat(chunks=2))
        assert reply.usage is not None and reply.usage.completion_tokens == 2
        stream = await client.stream("/chat/completions", chat(stream=True, chunks=2, fail_after_chunks=1))
        with pytest.raises(UpstreamError) as caught:
            await collect(stream)
        await stream.aclose()
        assert caught.value.kind == "stream_broken"
        with pytest.raises(UpstreamError) as caught:
            await client.complete("/chat/completions", chat(drop=True))
        assert caught.value.status == 502
    finally:
        await client.aclose()
