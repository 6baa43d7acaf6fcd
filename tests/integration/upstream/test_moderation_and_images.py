"""The moderation upstream and image generation against the fake upstream, over real loopback HTTP.

Moderation runs on a second OpenRouterUpstream pointed at an OpenAI-compatible /moderations (here
the fake, under /v1 as OpenAI has it); images are asked of a chat model and read off its answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest

from application.ports.upstream import UpstreamError
from domain.images import sniff_media_type
from domain.moderation import NOT_FLAGGED, ModerationVerdict
from infrastructure.upstream.moderation import OpenAIModerator
from infrastructure.upstream.openrouter import OpenRouterUpstream
from interfaces.http.moderation_wire import chat_texts
from interfaces.http.openai.images_wire import images_from_reply, parse_image_request, upstream_chat_body
from tests.fakes.upstream import FakeUpstreamHandle, fake_cost, start_fake_upstream
from tests.fakes.upstream.payloads import IMAGE_PNG, IMAGE_TEXT, IMAGE_TOKENS

MODERATION_KEY = "sk-moderation-test"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstreamHandle]:
    with start_fake_upstream(api_key=MODERATION_KEY) as handle:
        yield handle


@pytest.fixture(autouse=True)
def _fresh(fake: FakeUpstreamHandle) -> None:
    fake.reset_config()
    fake.clear()


@pytest.fixture
async def upstream(fake: FakeUpstreamHandle) -> AsyncIterator[OpenRouterUpstream]:
    client = OpenRouterUpstream(fake.openai_base_url, MODERATION_KEY)
    yield client
    await client.aclose()


# ---- moderation ------------------------------------------------------------------------------------


async def test_the_moderator_flags_violence(upstream: OpenRouterUpstream, fake: FakeUpstreamHandle) -> None:
    moderator = OpenAIModerator(upstream)

    assert await moderator.classify(["a calm sentence"]) == NOT_FLAGGED
    assert await moderator.classify(["a calm sentence", "I will kill the process"]) == ModerationVerdict(
        True, ("violence",)
    )
    received = fake.last_request()
    assert received.path == "/v1/moderations"
    assert received.headers["authorization"] == f"Bearer {MODERATION_KEY}"
    assert received.json() == {
        "model": "omni-moderation-latest",
        "input": ["a calm sentence", "I will kill the process"],
    }


async def test_chat_input_to_verdict(upstream: OpenRouterUpstream) -> None:
    body = json.dumps(
        {
            "model": "openai/gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "assistant", "content": "I would kill for a coffee."},  # the model's words: not read
                {"role": "user", "content": [{"type": "text", "text": "hello"}]},
            ],
        }
    ).encode()
    assert await OpenAIModerator(upstream).classify(chat_texts(body)) == NOT_FLAGGED
    flagged = body.replace(b'"hello"', b'"how do I kill a zombie process"')
    assert (await OpenAIModerator(upstream).classify(chat_texts(flagged))).flagged


async def test_the_same_upstream_passes_moderation_bodies_through(upstream: OpenRouterUpstream) -> None:
    body = b'{"input": "kill", "model": "omni-moderation-latest"}'
    reply = await upstream.complete("/moderations", body)
    assert reply.status == 200
    assert reply.usage is None
    assert json.loads(reply.body)["results"][0]["categories"]["violence"] is True


async def test_a_failing_moderation_upstream_raises(upstream: OpenRouterUpstream, fake: FakeUpstreamHandle) -> None:
    fake.configure(status=503)
    with pytest.raises(UpstreamError) as caught:
        await OpenAIModerator(upstream).classify(["x"])
    assert caught.value.status == 503


async def test_a_wrong_moderation_key_is_the_gateways_problem(fake: FakeUpstreamHandle) -> None:
    client = OpenRouterUpstream(fake.openai_base_url, "sk-wrong")
    try:
        with pytest.raises(UpstreamError) as caught:
            await OpenAIModerator(client).classify(["x"])
    finally:
        await client.aclose()
    assert caught.value.status == 502  # not the caller's 401: their own key is fine
    assert "upstream API key" in caught.value.message


# ---- image generation ------------------------------------------------------------------------------


async def test_an_image_request_round_trips_through_a_chat_model(
    upstream: OpenRouterUpstream, fake: FakeUpstreamHandle
) -> None:
    ask = parse_image_request(b'{"model": "dall-e-3", "prompt": "a blue square", "size": "1792x1024", "quality": "hd"}')
    reply = await upstream.complete("/chat/completions", upstream_chat_body(ask, "google/gemini-2.5-flash-image"))

    sent = fake.last_request().json()
    assert sent["modalities"] == ["image", "text"]
    assert sent["image_config"] == {"aspect_ratio": "16:9", "image_size": "2K"}
    [image] = images_from_reply(reply.body)
    assert image.data == IMAGE_PNG
    assert image.media_type == sniff_media_type(IMAGE_PNG) == "image/png"
    assert image.revised_prompt == IMAGE_TEXT
    assert reply.usage is not None
    assert reply.usage.completion_tokens == IMAGE_TOKENS
    assert reply.usage.cost_micros == round(fake_cost(reply.usage.prompt_tokens, IMAGE_TOKENS) * 1_000_000)


async def test_a_model_that_only_talks_is_a_no_image_error(upstream: OpenRouterUpstream) -> None:
    # Without the image modality the fake writes text: what a model that cannot draw would do.
    body = json.dumps({"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "draw"}]}).encode()
    reply = await upstream.complete("/chat/completions", body)
    with pytest.raises(UpstreamError) as caught:
        images_from_reply(reply.body)
    assert (caught.value.status, caught.value.kind) == (502, "no_image")
    assert "chunk0" in caught.value.message
