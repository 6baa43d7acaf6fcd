"""The specs' plans, model names, validation and client policy, through the real HTTP path."""

import httpx
import openai
import pytest

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway

HI = [{"role": "user", "content": "Hi"}]


def sdk(gateway: Gateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=gateway.url("/api/v1"), max_retries=0)


def test_the_gateway_specs_examples_run_as_written(gateway: Gateway, upstream: FakeUpstreamHandle) -> None:
    client = sdk(gateway, gateway.new_key())
    response = client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        temperature=0.7,
        max_tokens=512,
    )
    assert response.choices[0].message.content
    assert upstream.last_request().json()["model"] == "openai/gpt-4o"  # resolved, then sent
    image = client.images.generate(
        model="dall-e-3", prompt="A photorealistic cat sitting on a rooftop at sunset", size="1024x1024",
        quality="standard", n=1,
    )  # fmt: skip
    assert image.data[0].url
    assert upstream.last_request().json()["model"] == "google/gemini-2.5-flash-image"
    assert "gpt-4o" in {m.id for m in client.models.list()} or "openai/gpt-4o" in {m.id for m in client.models.list()}


def test_the_free_plan_gives_10_chat_and_5_image_requests_a_minute_per_key(gateway: Gateway) -> None:
    key = gateway.new_key("free")
    client = sdk(gateway, key)
    for _ in range(10):
        client.chat.completions.create(model="qwen/qwen3-32b", messages=HI)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="qwen/qwen3-32b", messages=HI)
    for _ in range(5):
        client.images.generate(model="google/gemini-2.5-flash-image", prompt="a dot")
    limited = httpx.post(
        gateway.url("/api/v1") + "/images/generations",
        json={"model": "google/gemini-2.5-flash-image", "prompt": "a dot"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert limited.status_code == 429 and limited.headers["x-ratelimit-limit-requests"] == "5"


def test_refusals_name_what_was_refused(gateway: Gateway) -> None:
    key = gateway.new_key(models="qwen/qwen3-32b")
    client = sdk(gateway, key)
    with pytest.raises(openai.PermissionDeniedError) as not_allowed:
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HI)
    assert not_allowed.value.body["type"] == "permission_error"  # type: ignore[index]
    assert "openai/gpt-4o-mini" in not_allowed.value.body["message"]  # type: ignore[index]
    for field, value in (("temperature", 3), ("top_p", 1.5), ("stop", ["a", "b", "c", "d", "e"]), ("n", 0)):
        with pytest.raises(openai.BadRequestError) as bad:
            client.chat.completions.create(model="qwen/qwen3-32b", messages=HI, **{field: value})
        assert bad.value.body["param"] == field  # type: ignore[index]
    blocked = httpx.post(
        gateway.url() + "/chat/completions",
        json={"model": "qwen/qwen3-32b", "messages": HI},
        headers={"Authorization": f"Bearer {key}", "User-Agent": "blockedagent/2.1 (vscode)"},
    )
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "client_blocked" and "BlockedAgent" in blocked.json()["error"]["message"]


def test_a_moderating_plan_turns_flagged_input_away(gateway: Gateway, upstream: FakeUpstreamHandle) -> None:
    client = sdk(gateway, gateway.new_key("careful"))
    with pytest.raises(openai.PermissionDeniedError) as flagged:
        client.chat.completions.create(model="qwen/qwen3-32b", messages=[{"role": "user", "content": "I will kill"}])
    assert flagged.value.body["code"] == "input_flagged" and "violence" in flagged.value.body["message"]  # type: ignore[index]
    assert client.chat.completions.create(model="qwen/qwen3-32b", messages=HI).choices
