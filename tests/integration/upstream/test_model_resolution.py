"""CachedModelCatalog as the ModelResolver, against the fake OpenRouter server."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from domain.model_names import DEFAULT_MODEL_ALIASES
from infrastructure.upstream.catalog import CachedModelCatalog
from infrastructure.upstream.openrouter import OpenRouterUpstream
from tests.fakes.upstream import CHAT_MODELS, FakeUpstreamHandle, start_fake_upstream

UPSTREAM_KEY = "sk-or-resolution"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class EditableLister:
    """The real upstream's lists, with ids added to the chat list; the calls counted."""

    def __init__(self, upstream: OpenRouterUpstream) -> None:
        self.upstream = upstream
        self.extra: list[str] = []
        self.calls = 0

    async def list_models(self, path: str) -> bytes:
        self.calls += 1
        body = await self.upstream.list_models(path)
        if path != "/models" or not self.extra:
            return body
        listing = json.loads(body)
        listing["data"] += [{"id": model_id} for model_id in self.extra]
        return json.dumps(listing).encode()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstreamHandle]:
    with start_fake_upstream(api_key=UPSTREAM_KEY) as handle:
        yield handle


@pytest.fixture(autouse=True)
def _fresh(fake: FakeUpstreamHandle) -> None:
    fake.reset_config()


@pytest.fixture
async def upstream(fake: FakeUpstreamHandle) -> AsyncIterator[OpenRouterUpstream]:
    client = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY)
    yield client
    await client.aclose()


# Every model name the three specs' examples use, and the id it reaches on the fake.
SPEC_EXAMPLES = [
    ("gpt-4o", "openai/gpt-4o"),  # gateway spec
    ("claude-sonnet-4-20250514", "anthropic/claude-sonnet-4"),
    ("gemini-2.5-pro", "google/gemini-2.5-pro"),
    ("gemini-2.5-flash", "google/gemini-2.5-flash"),
    ("gpt-4o-mini", "openai/gpt-4o-mini"),
    ("dall-e-3", "google/gemini-2.5-flash-image"),
    ("dall-e-2", "google/gemini-2.5-flash-image"),
    ("groq/gemma-groq-416", "groq/gemma-groq-416"),  # credits spec
    ("mistral/mistral-large-135", "mistral/mistral-large-135"),
    ("google/gemini-2.5-flash-image", "google/gemini-2.5-flash-image"),  # proxy spec
    ("google/gemini-2.5-flash-image-preview", "google/gemini-2.5-flash-image"),
]


async def test_the_specs_model_names_resolve_on_the_fake(upstream: OpenRouterUpstream) -> None:
    catalog = CachedModelCatalog(upstream, aliases=DEFAULT_MODEL_ALIASES)
    for name, model_id in SPEC_EXAMPLES:
        assert await catalog.resolve(name) == model_id, name
        assert await catalog.get(model_id) is not None, model_id
    assert await catalog.resolve("text-embedding-3-small") == "openai/text-embedding-3-small"
    assert await catalog.resolve("openai/gpt-4o-mini:free") == "openai/gpt-4o-mini:free"
    assert await catalog.resolve("openrouter/auto") == "openrouter/auto"
    assert await catalog.resolve("gpt-5") is None
    assert await catalog.resolve("dall-e-3".upper()) is None
    assert {"openai/gpt-4o", "groq/gemma-groq-416", "mistral/mistral-large-135"} <= {m["id"] for m in CHAT_MODELS}


async def test_configured_aliases_and_none(upstream: OpenRouterUpstream) -> None:
    catalog = CachedModelCatalog(upstream, aliases={"house": "qwen3-32b", "gpt-4o": "anthropic/claude-sonnet-4"})
    assert await catalog.resolve("house") == "qwen/qwen3-32b"
    assert await catalog.resolve("gpt-4o") == "anthropic/claude-sonnet-4"
    assert await catalog.resolve("dall-e-3") is None  # no built-in aliases unless given


async def test_the_index_is_built_once_per_load_and_rebuilt_on_refresh(upstream: OpenRouterUpstream) -> None:
    clock = Clock()
    lister = EditableLister(upstream)
    catalog = CachedModelCatalog(lister, ttl_seconds=60, clock=clock)
    assert await catalog.resolve("gpt-4o") == "openai/gpt-4o"
    for _ in range(100):
        await catalog.resolve("gpt-4o")
    assert lister.calls == 2  # the two lists, once

    lister.extra = ["azure/gpt-4o", "deepseek/deepseek-chat"]
    clock.now += 61
    await catalog.refresh()
    assert await catalog.resolve("deepseek-chat") == "deepseek/deepseek-chat"
    assert await catalog.resolve("gpt-4o") is None  # two providers now: not guessed
    assert await catalog.resolve("openai/gpt-4o") == "openai/gpt-4o"
    await catalog.aclose()


async def test_the_gateways_allow_list_settles_a_name_several_providers_serve(upstream: OpenRouterUpstream) -> None:
    lister = EditableLister(upstream)
    lister.extra = ["azure/gpt-4o"]
    catalog = CachedModelCatalog(lister, gateway_models=frozenset({"openai/gpt-4o", "qwen/qwen3-32b"}))
    assert await catalog.resolve("gpt-4o") == "openai/gpt-4o"
    assert await catalog.resolve("gemini-2.5-pro") == "google/gemini-2.5-pro"  # unique: not the allow-list's job


async def test_with_no_catalogue_aliases_apply_and_names_pass_as_written() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = OpenRouterUpstream(f"http://127.0.0.1:{port}/api/v1", UPSTREAM_KEY)
    try:
        catalog = CachedModelCatalog(client, aliases=DEFAULT_MODEL_ALIASES)
        assert await catalog.resolve("dall-e-3") == "google/gemini-2.5-flash-image"
        assert await catalog.resolve("gpt-4o") == "gpt-4o"
        assert not await catalog.known()
    finally:
        await catalog.aclose()
        await client.aclose()
