"""The official openai SDK against Sluice, as the gateway spec's examples use it."""

import httpx
import openai
import pytest

from tests.fakes.upstream import FakeUpstreamHandle, completion_text
from tests.integration.e2e.harness import Gateway

PREFIXES = ["/proxy/v1", "/api/v1", "/v1"]


def client(gateway: Gateway, key: str, prefix: str = "/proxy/v1") -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=gateway.url(prefix), max_retries=0)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_plain_completion_under_every_prefix(gateway: Gateway, prefix: str) -> None:
    key = gateway.new_key()
    raw = client(gateway, key, prefix).chat.completions.with_raw_response.create(
        model="qwen/qwen3-32b",
        messages=[{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hi!"}],
        temperature=0.7,
        max_tokens=512,
    )
    response = raw.parse()
    assert response.choices[0].message.content == completion_text(5)
    assert response.usage is not None and response.usage.completion_tokens == 5
    assert "system_fingerprint" in raw.http_response.json()
    assert raw.headers["x-ratelimit-limit-requests"] == "150"
    assert raw.headers["x-ratelimit-remaining-requests"] == "149"
    assert int(raw.headers["x-ratelimit-reset-requests"]) > 1_700_000_000


def test_streaming_relays_every_chunk_and_hides_usage_unless_asked(gateway: Gateway) -> None:
    key = gateway.new_key()
    chunks = list(
        client(gateway, key).chat.completions.create(
            model="qwen/qwen3-32b", messages=[{"role": "user", "content": "Tell me a joke."}], stream=True
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == completion_text(5)
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_streaming_with_usage_when_the_client_asks(gateway: Gateway, upstream: FakeUpstreamHandle) -> None:
    key = gateway.new_key()
    chunks = list(
        client(gateway, key).chat.completions.create(
            model="qwen/qwen3-32b",
            messages=[{"role": "user", "content": "Tell me a joke."}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5


def test_stream_is_sse_with_comments_and_done(gateway: Gateway) -> None:
    key = gateway.new_key()
    with httpx.stream(
        "POST",
        gateway.url() + "/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "x"}], "stream": True},
        timeout=10,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        body = response.read().decode()
    assert body.startswith(": OPENROUTER PROCESSING\n\n")
    assert body.endswith("data: [DONE]\n\n")
    assert '"usage"' not in body


def test_unknown_fields_reach_the_upstream_byte_for_byte(gateway: Gateway, upstream: FakeUpstreamHandle) -> None:
    key = gateway.new_key()
    body = (
        b'{"model":"google/gemini-2.5-flash-image","messages":[{"role":"user","content":"grass"}],'
        b'"modalities":["image", "text"],"image_config":{"aspect_ratio":"16:9"},'
        b'"plugins":[{"id":"file-parser","pdf":{"engine":"pdf-text"}}],"provider":{"order":["a","b"]},'
        b'"reasoning":{"effort":"high"},"stream":false}'
    )
    upstream.clear()
    response = httpx.post(
        gateway.url() + "/chat/completions",
        content=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    received = upstream.last_request()
    assert received.body_bytes == body
    assert received.headers["authorization"] == "Bearer sk-upstream-test-key"


def test_models_need_no_key_and_have_the_openai_shape(gateway: Gateway) -> None:
    listing = openai.OpenAI(api_key="unused", base_url=gateway.url()).models.list()
    ids = {m.id for m in listing.data}
    assert "qwen/qwen3-32b" in ids
    raw = httpx.get(gateway.url("/api/v1") + "/models").json()
    assert raw["object"] == "list"
    first = raw["data"][0]
    assert first["object"] == "model" and "owned_by" in first and "pricing" in first and "context_length" in first
    embeddings = httpx.get(gateway.url() + "/embeddings/models").json()
    assert any(m["id"] == "openai/text-embedding-3-small" for m in embeddings["data"])


def test_stats_and_key_report_the_callers_usage(gateway: Gateway) -> None:
    key = gateway.new_key()
    c = client(gateway, key)
    for _ in range(3):
        c.chat.completions.create(model="qwen/qwen3-32b", messages=[{"role": "user", "content": "abcdefgh"}])
    stats = httpx.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"}).json()
    assert stats == {
        "totalRequests": 3,
        "totalTokens": 3 * (2 + 5),
        "totalPromptTokens": 3 * 2,
        "totalCompletionTokens": 3 * 5,
    }
    info = httpx.get(gateway.url() + "/key", headers={"Authorization": f"Bearer {key}"}).json()["data"]
    assert info["label"] == "e2e"
    assert info["usage"] == pytest.approx(3 * (2e-6 + 5 * 2e-6))
    assert info["limit"] is None and info["limit_remaining"] is None
    assert info["rate_limit"] == {"requests": 150, "interval": "30m", "note": "chat bucket, per account"}


def test_retrieve_one_model_by_an_id_with_slashes(gateway: Gateway) -> None:
    model = openai.OpenAI(api_key="unused", base_url=gateway.url(), max_retries=0).models.retrieve("qwen/qwen3-32b")
    assert model.id == "qwen/qwen3-32b"
    missing = httpx.get(gateway.url() + "/models/nobody/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"


def test_browsers_may_call_with_cors(gateway: Gateway) -> None:
    preflight = httpx.options(
        gateway.url() + "/chat/completions",
        headers={
            "Origin": "https://notebook.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://notebook.example")
