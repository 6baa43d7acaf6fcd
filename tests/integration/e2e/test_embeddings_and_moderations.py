"""Embeddings and moderations, as the proxy spec's examples call them, metered like chat."""

import httpx
import openai
from openrouter import OpenRouter

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway


def test_embeddings_with_the_openai_sdk_share_the_chat_bucket(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(api_key=key, base_url=gateway.url(), max_retries=0)
    raw = client.embeddings.with_raw_response.create(
        model="openai/text-embedding-3-small", input="The quick brown fox jumps over the lazy dog"
    )
    response = raw.parse()
    assert len(response.data[0].embedding) == 8
    assert raw.headers["x-ratelimit-limit-requests"] == "150"
    assert raw.headers["x-ratelimit-remaining-requests"] == "149"
    assert "system_fingerprint" not in raw.http_response.json()
    stats = httpx.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"}).json()
    assert stats["totalRequests"] == 1
    assert stats["totalPromptTokens"] == response.usage.prompt_tokens


def test_embeddings_with_the_openrouter_sdk(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = OpenRouter(api_key=key, server_url=gateway.url("/proxy/v1"))
    response = client.embeddings.generate(
        model="openai/text-embedding-3-small", input="The quick brown fox jumps over the lazy dog"
    )
    assert len(response.data[0].embedding) == 8


def test_embeddings_need_an_input(gateway: Gateway) -> None:
    key = gateway.new_key()
    response = httpx.post(
        gateway.url() + "/embeddings",
        json={"model": "openai/text-embedding-3-small"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input"


def test_moderations_use_their_own_bucket(gateway: Gateway, upstream: FakeUpstreamHandle) -> None:
    key = gateway.new_key()
    upstream.clear()
    response = httpx.post(
        gateway.url() + "/moderations",
        json={"input": "I want to kill them."},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["flagged"] is True and result["categories"]["violence"] is True
    assert response.headers["x-ratelimit-limit-requests"] == "300"
    assert upstream.last_request().json() == {"input": "I want to kill them."}
    moderation = openai.OpenAI(api_key=key, base_url=gateway.url(), max_retries=0).moderations.create(
        input="a kind word"
    )
    assert moderation.results[0].flagged is False
