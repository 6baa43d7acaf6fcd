"""Odd usage from a real (fake) upstream over loopback: clamped where the adapter builds `Usage`, logged once."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from domain.money import usd_to_micros
from domain.pricing import Usage
from domain.usage_bounds import MAX_COST_MICROS_PER_REQUEST, MAX_TOKENS_PER_REQUEST
from infrastructure.upstream.openrouter import OpenRouterUpstream
from tests.fakes.upstream import FakeUpstreamHandle, count_prompt_tokens, fake_cost, start_fake_upstream

UPSTREAM_KEY = "sk-or-v1-gateway-key-for-usage-tests"
MODEL = "openai/gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Tell me something about the sea, briefly."}]
PROMPT_TOKENS = count_prompt_tokens(MESSAGES)
CHUNKS = 4


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstreamHandle]:
    with start_fake_upstream(api_key=UPSTREAM_KEY) as handle:
        yield handle


@pytest.fixture
async def upstream(fake: FakeUpstreamHandle) -> AsyncIterator[OpenRouterUpstream]:
    client = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY)
    yield client
    await client.aclose()


@pytest.fixture
async def httpx_upstream(fake: FakeUpstreamHandle) -> AsyncIterator[OpenRouterUpstream]:
    """The same adapter over httpx's own transport (the non-pooled `complete` branch)."""
    client = OpenRouterUpstream(fake.base_url, UPSTREAM_KEY, transport=httpx.AsyncHTTPTransport())
    yield client
    await client.aclose()


def chat(usage: dict[str, Any], *, stream: bool = False) -> bytes:
    body: dict[str, Any] = {"model": MODEL, "messages": MESSAGES, "fake": {"chunks": CHUNKS, "usage": usage}}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return json.dumps(body).encode()


async def streamed_usage(upstream: OpenRouterUpstream, usage: dict[str, Any]) -> Usage | None:
    stream = await upstream.stream("/chat/completions", chat(usage, stream=True))
    try:
        usages = [frame.usage async for frame in stream if frame.usage is not None]
    finally:
        await stream.aclose()
    assert len(usages) <= 1
    return usages[0] if usages else None


def usage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "sluice.upstream" and r.levelno == logging.WARNING]


CATALOGUE_COST = usd_to_micros(fake_cost(PROMPT_TOKENS, CHUNKS))
CASES = [
    # (usage override, the Usage billed, a word each warning must hold)
    ({"cost": -5}, Usage(PROMPT_TOKENS, CHUNKS, 0), "cost '-5' is negative"),
    ({"cost": "-5"}, Usage(PROMPT_TOKENS, CHUNKS, 0), "cost '-5' is negative"),
    ({"cost": 1e9}, Usage(PROMPT_TOKENS, CHUNKS, MAX_COST_MICROS_PER_REQUEST), "is above $1000"),
    ({"cost": "lots"}, Usage(PROMPT_TOKENS, CHUNKS, None), "cost 'lots' is not a number"),
    ({"cost": True}, Usage(PROMPT_TOKENS, CHUNKS, None), "cost 'true' is not a number"),
    ({"cost": {"usd": 1}}, Usage(PROMPT_TOKENS, CHUNKS, None), "is not a number"),
    ({"prompt_tokens": -3}, Usage(0, CHUNKS, CATALOGUE_COST), "prompt_tokens -3 is negative"),
    ({"completion_tokens": 10**12}, Usage(PROMPT_TOKENS, MAX_TOKENS_PER_REQUEST, CATALOGUE_COST), "is above"),
    ({"completion_tokens": 2.5}, Usage(PROMPT_TOKENS, 3, CATALOGUE_COST), "completion_tokens 2.5 is fractional"),
    ({"prompt_tokens": "many"}, Usage(0, CHUNKS, CATALOGUE_COST), "prompt_tokens 'many' is not a number"),
    ({"prompt_tokens": False, "cost": -1}, Usage(0, CHUNKS, 0), "prompt_tokens False is not a number"),
]


@pytest.mark.parametrize(("override", "billed", "said"), CASES)
async def test_a_plain_answer_with_odd_usage_is_clamped_and_logged_once(
    upstream: OpenRouterUpstream, caplog: pytest.LogCaptureFixture, override: dict[str, Any], billed: Usage, said: str
) -> None:
    with caplog.at_level(logging.WARNING, "sluice.upstream"):
        reply = await upstream.complete("/chat/completions", chat(override))
    assert reply.usage == billed
    warnings = usage_warnings(caplog)
    assert len(warnings) == 1
    assert said in warnings[0] and MODEL in warnings[0]
    assert UPSTREAM_KEY not in caplog.text


@pytest.mark.parametrize(("override", "billed", "said"), CASES)
async def test_a_stream_with_odd_usage_is_clamped_and_logged_once(
    upstream: OpenRouterUpstream, caplog: pytest.LogCaptureFixture, override: dict[str, Any], billed: Usage, said: str
) -> None:
    with caplog.at_level(logging.WARNING, "sluice.upstream"):
        usage = await streamed_usage(upstream, override)
    assert usage == billed
    warnings = usage_warnings(caplog)
    assert len(warnings) == 1
    assert said in warnings[0] and MODEL in warnings[0]


async def test_the_httpx_transport_path_clamps_too(
    httpx_upstream: OpenRouterUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "sluice.upstream"):
        reply = await httpx_upstream.complete("/chat/completions", chat({"cost": -5}))
    assert reply.usage == Usage(PROMPT_TOKENS, CHUNKS, 0)
    assert len(usage_warnings(caplog)) == 1


async def test_sane_usage_logs_nothing(upstream: OpenRouterUpstream, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "sluice.upstream"):
        reply = await upstream.complete("/chat/completions", chat({}))
        usage = await streamed_usage(upstream, {})
    assert reply.usage == usage == Usage(PROMPT_TOKENS, CHUNKS, CATALOGUE_COST)
    assert usage_warnings(caplog) == []
