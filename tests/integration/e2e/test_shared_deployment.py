"""Postgres + Redis + two worker processes: limits stay exact and nothing is billed twice."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import openai

from tests.fakes.upstream import completion_text
from tests.integration.e2e.harness import Gateway


def test_chat_plain_and_streaming(shared_gateway: Gateway) -> None:
    key = shared_gateway.new_key()
    client = openai.OpenAI(api_key=key, base_url=shared_gateway.url("/api/v1"), max_retries=0)
    reply = client.chat.completions.create(model="qwen/qwen3-32b", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == completion_text(5)
    streamed = client.chat.completions.create(
        model="qwen/qwen3-32b", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == completion_text(5)


def test_rate_limit_is_exact_across_processes(shared_gateway: Gateway) -> None:
    key = shared_gateway.new_key("tiny")
    body = {"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "x"}]}
    with httpx.Client(timeout=10) as client, ThreadPoolExecutor(12) as pool:
        statuses = list(
            pool.map(
                lambda _: client.post(
                    shared_gateway.url() + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
                ).status_code,
                range(24),
            )
        )
    assert statuses.count(200) == 3
    assert statuses.count(429) == 21


def test_prepaid_balance_is_exact_under_concurrency(shared_gateway: Gateway) -> None:
    key = shared_gateway.new_key("flat")
    email = shared_gateway.last_email
    shared_gateway.cli("credits", "grant", email, "0.10")  # ten requests at one cent
    body = {"model": "qwen/qwen3-32b", "messages": [{"role": "user", "content": "x"}]}
    with httpx.Client(timeout=10) as client, ThreadPoolExecutor(16) as pool:
        statuses = list(
            pool.map(
                lambda _: client.post(
                    shared_gateway.url() + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
                ).status_code,
                range(30),
            )
        )
    assert statuses.count(200) == 10
    assert statuses.count(402) == 20
    httpx.get(shared_gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"})
    assert shared_gateway.cli("credits", "balance", email).stdout.strip() == "$0.00"
