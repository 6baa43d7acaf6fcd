"""Streams that end badly: client disconnects, upstream breaks off, errors mid-stream."""

import time

import httpx
import openai
import pytest

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway


def stats(gateway: Gateway, key: str) -> dict:
    return httpx.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"}).json()


def test_client_disconnect_closes_upstream_and_bills_what_was_generated(
    gateway: Gateway, upstream: FakeUpstreamHandle
) -> None:
    key = gateway.new_key()
    aborted_before = upstream.stats()["aborted_streams"]
    body = {
        "model": "qwen/qwen3-32b",
        "messages": [{"role": "user", "content": "long story"}],
        "stream": True,
        "fake": {"chunks": 50, "chunk_delay_ms": 50},
    }
    with httpx.stream(
        "POST", gateway.url() + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ) as response:
        seen = 0
        for line in response.iter_lines():
            if line.startswith("data: {"):
                seen += 1
            if seen == 3:
                break
    upstream.wait_for_stats(lambda s: s["aborted_streams"] > aborted_before, timeout=10)
    deadline = time.monotonic() + 10
    while stats(gateway, key)["totalRequests"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    result = stats(gateway, key)
    assert result["totalRequests"] == 1
    assert 1 <= result["totalCompletionTokens"] < 50  # billed for the part that was generated


def test_upstream_breaking_off_mid_stream_gives_the_client_an_error(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(api_key=key, base_url=gateway.url(), max_retries=0)
    received = []
    with pytest.raises(openai.APIError):
        for chunk in client.chat.completions.create(
            model="qwen/qwen3-32b",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            extra_body={"fake": {"chunks": 10, "fail_after_chunks": 3}},
        ):
            received.append(chunk)
    assert len(received) >= 3
    time.sleep(0.3)
    assert stats(gateway, key)["totalRequests"] == 1


def test_mid_stream_error_frame_is_forwarded(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(api_key=key, base_url=gateway.url(), max_retries=0)
    with pytest.raises(openai.APIError):
        for _ in client.chat.completions.create(
            model="qwen/qwen3-32b",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            extra_body={"fake": {"mid_stream_error": True}},
        ):
            pass


def test_split_frames_are_reassembled(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(api_key=key, base_url=gateway.url(), max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="qwen/qwen3-32b",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"fake": {"split_frames": True, "chunks": 7}},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).count("chunk") == 7
    assert chunks[-1].usage is not None
