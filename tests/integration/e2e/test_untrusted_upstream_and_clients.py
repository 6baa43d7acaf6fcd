"""Through `sluice serve`: odd upstream usage never credits an account, and client model ids never become series."""

import json
import re
import time
import uuid

import httpx

from tests.integration.e2e.harness import Gateway

MESSAGES = [{"role": "user", "content": "abcdefgh"}]  # 2 prompt tokens at the fake
_MODEL_LABEL = re.compile(r'model="([^"]*)"')


def chat(gateway: Gateway, key: str, **extra) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.post(
        gateway.url() + "/chat/completions",
        json={"model": "qwen/qwen3-32b", "messages": MESSAGES, **extra},
        headers={"Authorization": f"Bearer {key}"},
        timeout=15,
    )


def stream(gateway: Gateway, key: str, **extra) -> str:  # type: ignore[no-untyped-def]
    body = {
        "model": "qwen/qwen3-32b",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
        **extra,
    }
    with httpx.stream(
        "POST", gateway.url() + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=15
    ) as response:
        assert response.status_code == 200
        return response.read().decode()


def stats_when_counted(gateway: Gateway, key: str, requests: int) -> dict:
    """/stats once the settlements in flight are written (they run in the background)."""
    deadline = time.monotonic() + 15
    while True:
        stats = httpx.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"}).json()
        if stats["totalRequests"] >= requests or time.monotonic() > deadline:
            return stats
        time.sleep(0.1)


def balance(gateway: Gateway, email: str) -> int:
    return json.loads(gateway.cli("credits", "balance", email, "--json").stdout)["balance_micros"]


def model_labels(gateway: Gateway) -> set[str]:
    return set(_MODEL_LABEL.findall(httpx.get(gateway.root + "/metrics").text))


def test_a_negative_upstream_cost_charges_nothing_and_the_record_is_kept(gateway: Gateway) -> None:
    key = gateway.new_key("paid")
    email = gateway.last_email
    gateway.cli("credits", "grant", email, "1")

    assert chat(gateway, key, fake={"usage": {"cost": -5}}).status_code == 200
    assert "[DONE]" in stream(gateway, key, fake={"usage": {"cost": -5}})
    assert chat(gateway, key, fake={"usage": {"cost": "-5", "prompt_tokens": -100}}).status_code == 200

    stats = stats_when_counted(gateway, key, 3)
    assert stats["totalRequests"] == 3
    assert stats["totalPromptTokens"] == 2 + 2 + 0  # the negative count is billed as 0
    # As if the cost were 0: the plan's multiplier times 0. Never above the grant.
    assert balance(gateway, email) == 1_000_000
    log = gateway.log()
    assert "the upstream reported odd usage for model qwen/qwen3-32b; clamped: cost '-5' is negative" in log
    assert key not in log


def test_an_unreadable_upstream_cost_is_charged_at_the_catalogue_price(gateway: Gateway) -> None:
    key = gateway.new_key("paid")
    email = gateway.last_email
    gateway.cli("credits", "grant", email, "1")

    assert chat(gateway, key, fake={"usage": {"cost": "free!"}}).status_code == 200

    assert stats_when_counted(gateway, key, 1)["totalRequests"] == 1
    # qwen/qwen3-32b at the fake's catalogue: 2 prompt tokens at $1/M + 5 completion at $2/M = 12 micro-dollars, x 2
    assert balance(gateway, email) == 999_976


def test_client_chosen_model_ids_make_no_new_series(gateway: Gateway) -> None:
    key = gateway.new_key("paid")  # no rate limit to stop the 300 calls
    gateway.cli("credits", "grant", gateway.last_email, "10")
    assert chat(gateway, key).status_code == 200  # a catalogued model: its own label
    before = model_labels(gateway)
    assert "qwen/qwen3-32b" in before

    sent: list[str] = []
    statuses: dict[int, int] = {}
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=15) as client:
        for n in range(100):
            for model in (f"openrouter/x-{n}", f"@preset/{n}", uuid.uuid4().hex):
                sent.append(model)
                reply = client.post(gateway.url() + "/chat/completions", json={"model": model, "messages": MESSAGES})
                statuses[reply.status_code] = statuses.get(reply.status_code, 0) + 1
        # a variant the gateway serves (the catalogue knows its base) is still not a label of its own
        assert client.post(
            gateway.url() + "/chat/completions", json={"model": "qwen/qwen3-32b:nitro", "messages": MESSAGES}
        ).status_code == 200

    # The routed ids go upstream (and are metered); the random ones are refused as unknown.
    assert statuses == {200: 200, 404: 100}
    stats_when_counted(gateway, key, 202)  # every usage record is counted before /metrics is read
    after = model_labels(gateway)
    assert after - before <= {"other"}
    assert "other" in after
    assert not after & set(sent)
