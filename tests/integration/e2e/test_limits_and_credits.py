"""Rate limits, prepaid credits and spend caps, through the real HTTP path."""

import json

import httpx
import openai
import pytest

from tests.fakes.upstream import fake_cost
from tests.integration.e2e.harness import Gateway

MESSAGES = [{"role": "user", "content": "abcdefgh"}]  # 2 prompt tokens at the fake


def chat(gateway: Gateway, key: str, **extra) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.post(
        gateway.url() + "/chat/completions",
        json={"model": "qwen/qwen3-32b", "messages": MESSAGES, **extra},
        headers={"Authorization": f"Bearer {key}"},
        timeout=15,
    )


def balance(gateway: Gateway, email: str) -> float:
    return json.loads(gateway.cli("credits", "balance", email, "--json").stdout)["balance_usd"]


def test_rate_limit_gives_429_with_headers_and_retry_after(gateway: Gateway) -> None:
    key = gateway.new_key("tiny")
    remaining = [chat(gateway, key).headers["x-ratelimit-remaining-requests"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    limited = chat(gateway, key)
    assert limited.status_code == 429
    assert limited.json()["error"]["type"] == "rate_limit_error"
    assert limited.headers["x-ratelimit-limit-requests"] == "3"
    assert limited.headers["x-ratelimit-remaining-requests"] == "0"
    assert 1 <= int(limited.headers["retry-after"]) <= 20
    with pytest.raises(openai.RateLimitError):
        openai.OpenAI(api_key=key, base_url=gateway.url(), max_retries=0).chat.completions.create(
            model="qwen/qwen3-32b", messages=MESSAGES
        )


def test_prepaid_plan_is_402_without_balance_then_charged_exactly(gateway: Gateway) -> None:
    key = gateway.new_key("paid")
    email = gateway.last_email
    refused = chat(gateway, key)
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "insufficient_credits"
    assert gateway.cli("credits", "grant", email, "1.5", "--idempotency-key", "topup-1").stdout.strip() == "$1.50"
    # the same idempotency key never grants twice
    assert gateway.cli("credits", "grant", email, "1.5", "--idempotency-key", "topup-1").stdout.strip() == "$1.50"
    assert chat(gateway, key, max_tokens=50).status_code == 200
    httpx.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"})  # flushes settlements
    charged = 2 * fake_cost(2, 5)  # plan multiplier 2
    assert balance(gateway, email) == pytest.approx(1.5 - charged, abs=1e-6)
    info = httpx.get(gateway.url() + "/key", headers={"Authorization": f"Bearer {key}"}).json()["data"]
    assert info["limit_remaining"] == pytest.approx(1.5 - charged, abs=1e-6)
    assert info["usage"] == pytest.approx(charged, abs=1e-6)


def test_per_request_pricing_and_failed_calls_cost_nothing(gateway: Gateway) -> None:
    key = gateway.new_key("flat")
    email = gateway.last_email
    gateway.cli("credits", "grant", email, "0.05")
    for _ in range(2):
        assert chat(gateway, key).status_code == 200
    assert chat(gateway, key, fake={"status": 503}).status_code == 503
    httpx.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"})
    assert balance(gateway, email) == pytest.approx(0.03, abs=1e-9)


def test_spend_cap_refuses_once_reached(gateway: Gateway) -> None:
    key = gateway.new_key("capped")
    assert chat(gateway, key).status_code == 200  # 12 micro-dollars: over the 10 cap after this one
    httpx.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"})
    refused = chat(gateway, key)
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "spend_cap_reached"
    info = httpx.get(gateway.url() + "/key", headers={"Authorization": f"Bearer {key}"}).json()["data"]
    assert info["limit"] == pytest.approx(0.00001)
    assert info["limit_remaining"] == 0
    assert info["limit_reset"] == "daily"
