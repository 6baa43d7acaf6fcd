"""CachedModelCatalog over OpenRouterUpstream, against the fake OpenRouter server."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from domain.catalog import ModelInfo, ModelPrice
from infrastructure.upstream.catalog import CachedModelCatalog
from infrastructure.upstream.openrouter import OpenRouterUpstream
from tests.fakes.upstream import CHAT_MODELS, EMBEDDING_MODELS, FakeUpstreamHandle, start_fake_upstream

UPSTREAM_KEY = "sk-or-catalog"
GPT_MINI = ModelInfo(
    id="openai/gpt-4o-mini",
    price=ModelPrice(prompt_picos=1_000_000, completion_picos=2_000_000, request_picos=0),
    context_length=128000,
    max_completion_tokens=16384,
    name="OpenAI: GPT-4o-mini",
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingLister:
    """The real upstream, with the calls counted (and optionally slowed down)."""

    def __init__(self, upstream: OpenRouterUpstream, delay: float = 0.0) -> None:
        self.upstream = upstream
        self.delay = delay
        self.calls: list[str] = []

    async def list_models(self, path: str) -> bytes:
        self.calls.append(path)
        if self.delay:
            await asyncio.sleep(self.delay)
        return await self.upstream.list_models(path)


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
    client = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY)
    yield client
    await client.aclose()


async def test_models_are_known_with_prices_and_limits(upstream: OpenRouterUpstream) -> None:
    catalog = CachedModelCatalog(upstream)
    assert await catalog.get("openai/gpt-4o-mini") == GPT_MINI
    qwen = await catalog.get("qwen/qwen3-32b")
    assert qwen is not None and qwen.context_length == 40960 and qwen.max_completion_tokens is None
    embedding = await catalog.get("openai/text-embedding-3-small")
    assert embedding is not None and embedding.price == ModelPrice(1_000_000, 0, 0)
    assert await catalog.get("nobody/nothing") is None
    assert await catalog.known()


async def test_the_models_served_in_the_listings_order(fake: FakeUpstreamHandle) -> None:
    upstream = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY)
    try:
        everything = CachedModelCatalog(upstream)
        chat = await everything.models("models")
        assert chat is not None and chat[0] == GPT_MINI
        assert [m.id for m in chat] == [m["id"] for m in CHAT_MODELS]
        assert [m.id for m in await everything.models("embeddings") or ()] == [m["id"] for m in EMBEDDING_MODELS]
        chosen = frozenset({"qwen/qwen3-32b", "openai/text-embedding-3-small"})
        narrowed = CachedModelCatalog(upstream, gateway_models=chosen)
        assert [m.id for m in await narrowed.models("models") or ()] == ["qwen/qwen3-32b"]
        assert [m.id for m in await narrowed.models("embeddings") or ()] == ["openai/text-embedding-3-small"]
        with pytest.raises(ValueError):
            await narrowed.models("images")
    finally:
        await upstream.aclose()
    fake.configure(status=503)
    down = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY)
    try:
        assert await CachedModelCatalog(down, load_timeout=5).models("models") is None
    finally:
        await down.aclose()


@pytest.mark.parametrize("suffix", [":free", ":online", ":nitro", ":floor", ":online:nitro"])
async def test_variant_suffixes_find_the_base_model(upstream: OpenRouterUpstream, suffix: str) -> None:
    catalog = CachedModelCatalog(upstream)
    assert await catalog.get("openai/gpt-4o-mini" + suffix) == GPT_MINI
    assert await catalog.get("nobody/nothing" + suffix) is None


async def test_models_listing_in_openai_shape_with_every_openrouter_field(upstream: OpenRouterUpstream) -> None:
    catalog = CachedModelCatalog(upstream)
    listing = json.loads(await catalog.listing("models"))
    assert listing["object"] == "list"
    assert [item["id"] for item in listing["data"]] == [model["id"] for model in CHAT_MODELS]
    for item, model in zip(listing["data"], CHAT_MODELS, strict=True):
        assert item == {**model, "object": "model", "owned_by": model["id"].split("/")[0]}
        assert item["created"] == model["created"]

    embeddings = json.loads(await catalog.listing("embeddings"))
    assert [item["id"] for item in embeddings["data"]] == [model["id"] for model in EMBEDDING_MODELS]
    assert embeddings["data"][0]["owned_by"] == "openai"
    with pytest.raises(ValueError, match="unknown model list"):
        await catalog.listing("images")


async def test_listing_is_filtered_to_the_gateways_models(upstream: OpenRouterUpstream) -> None:
    allowed = frozenset({"qwen/qwen3-32b", "openai/text-embedding-3-small", "not/upstream"})
    catalog = CachedModelCatalog(upstream, gateway_models=allowed)
    models = json.loads(await catalog.listing("models"))
    assert [item["id"] for item in models["data"]] == ["qwen/qwen3-32b"]
    embeddings = json.loads(await catalog.listing("embeddings"))
    assert [item["id"] for item in embeddings["data"]] == ["openai/text-embedding-3-small"]


async def test_an_upstream_without_an_embeddings_list(upstream: OpenRouterUpstream) -> None:
    catalog = CachedModelCatalog(upstream, embeddings_path="/embeddings/not-here")
    assert json.loads(await catalog.listing("embeddings")) == {"object": "list", "data": []}
    assert await catalog.get("openai/gpt-4o-mini") == GPT_MINI
    assert await catalog.known()


async def test_loads_once_for_concurrent_callers_and_caches(upstream: OpenRouterUpstream) -> None:
    lister = CountingLister(upstream, delay=0.05)
    catalog = CachedModelCatalog(lister)
    results = await asyncio.gather(*(catalog.get("openai/gpt-4o-mini") for _ in range(20)))
    assert results == [GPT_MINI] * 20
    await catalog.listing("models")
    assert await catalog.known()
    assert sorted(lister.calls) == ["/embeddings/models", "/models"]


async def test_refreshes_in_the_background_after_the_ttl(upstream: OpenRouterUpstream) -> None:
    clock = Clock()
    lister = CountingLister(upstream, delay=0.05)
    catalog = CachedModelCatalog(lister, ttl_seconds=300, clock=clock)
    assert await catalog.get("openai/gpt-4o-mini") == GPT_MINI
    assert len(lister.calls) == 2

    clock.now += 299
    await catalog.get("openai/gpt-4o-mini")
    assert len(lister.calls) == 2

    clock.now += 2  # stale: the callers get the old copy at once, one refresh runs behind them
    results = await asyncio.gather(*(catalog.get("openai/gpt-4o-mini") for _ in range(10)))
    assert results == [GPT_MINI] * 10
    assert len(lister.calls) == 4  # started, not finished
    await catalog.refresh()  # joins the refresh under way
    assert len(lister.calls) == 4
    await catalog.get("openai/gpt-4o-mini")
    assert len(lister.calls) == 4  # fresh again
    await catalog.aclose()


async def test_serves_stale_when_a_refresh_fails(upstream: OpenRouterUpstream, fake: FakeUpstreamHandle) -> None:
    clock = Clock()
    lister = CountingLister(upstream)
    catalog = CachedModelCatalog(lister, ttl_seconds=60, retry_seconds=30, clock=clock)
    listing = await catalog.listing("models")

    fake.configure(status=503)
    clock.now += 61
    assert await catalog.get("openai/gpt-4o-mini") == GPT_MINI
    assert await catalog.refresh()  # failed, but the old copy stands
    assert await catalog.listing("models") == listing
    calls = len(lister.calls)
    clock.now += 10
    await catalog.get("openai/gpt-4o-mini")
    assert len(lister.calls) == calls  # no retry before retry_seconds

    fake.reset_config()
    clock.now += 21
    await catalog.get("openai/gpt-4o-mini")
    await catalog.refresh()
    assert len(lister.calls) == calls + 2
    assert await catalog.known()
    await catalog.aclose()


async def test_an_unreachable_upstream_is_an_unknown_catalogue() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = OpenRouterUpstream(f"http://127.0.0.1:{port}/api/v1", UPSTREAM_KEY)
    try:
        catalog = CachedModelCatalog(client)
        assert await catalog.get("openai/gpt-4o-mini") is None
        assert not await catalog.known()
        assert await catalog.listing("models") is None  # unavailable, not an empty list
        assert await catalog.listing("embeddings") is None
    finally:
        await client.aclose()


async def test_a_hanging_upstream_does_not_hold_requests(fake: FakeUpstreamHandle) -> None:
    fake.configure(hang=True)
    client = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY, timeout_read=5)
    catalog = CachedModelCatalog(client, load_timeout=0.2)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await catalog.get("openai/gpt-4o-mini") is None
        assert not await catalog.known()
        assert loop.time() - started < 1.5
    finally:
        fake.reset_config()
        await catalog.aclose()
        await client.aclose()
