"""The credits API (credits-api.md) driven as its own examples do: `requests`, flat errors, credits."""

import json
import shutil
import subprocess

import requests

from tests.fakes.upstream import FakeUpstreamHandle
from tests.integration.e2e.harness import Gateway

MODEL = "groq/gemma-groq-416"  # the spec's own model id; the fake catalogue carries it


def balance(gateway: Gateway, email: str, key: str | None = None) -> float:
    """The durable balance; with `key`, after the caller's /stats returned this process's credit lease."""
    if key is not None:
        requests.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"}, timeout=15)
    return json.loads(gateway.cli("credits", "balance", email, "--json").stdout)["balance_usd"]


def funded_key(gateway: Gateway, credits: str) -> str:
    key = gateway.new_key()
    gateway.cli("credits", "grant", gateway.last_email, credits)
    return key


def spec_example(gateway: Gateway, key: str, url: str = "/api/v1/chat", **body) -> requests.Response:  # type: ignore[no-untyped-def]
    """The spec's Python example, with the base URL swapped."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    data = {"model": MODEL, "messages": [{"role": "user", "content": "Hello!"}], **body}
    return requests.post(gateway.root + url, headers=headers, json=data, timeout=15)


def test_a_request_costs_one_credit_and_says_what_is_left(gateway: Gateway, upstream: FakeUpstreamHandle) -> None:
    key = funded_key(gateway, "5")
    response = spec_example(gateway, key)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"]
    assert set(body["usage"]) >= {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert (body["credits_charged"], body["credits_remaining"], body["batch_request"]) == (1, 4, False)
    assert upstream.last_request().json()["max_tokens"] == 150  # the spec's default
    assert balance(gateway, gateway.last_email, key) == 4


def test_a_batch_request_costs_two(gateway: Gateway) -> None:
    key = funded_key(gateway, "5")
    body = spec_example(gateway, key, "/api/v1/chat?batch=1", max_tokens=20).json()
    assert (body["credits_charged"], body["credits_remaining"], body["batch_request"]) == (2, 3, True)


def test_no_credits_is_the_spec_402(gateway: Gateway) -> None:
    key = gateway.new_key()
    response = spec_example(gateway, key)
    assert response.status_code == 402
    assert response.json() == {
        "error": "Insufficient credits. Required: 1, Available: 0",
        "credits_required": 1,
        "credits_available": 0,
    }
    funded = funded_key(gateway, "1")
    refused = spec_example(gateway, funded, "/api/v1/chat?batch=1")
    assert refused.status_code == 402
    assert refused.json()["credits_required"] == 2 and refused.json()["credits_available"] == 1


def test_flat_errors_of_the_spec(gateway: Gateway) -> None:
    bad_key = spec_example(gateway, "sk-sluice-not-a-real-key")
    assert (bad_key.status_code, bad_key.json()) == (401, {"error": "Invalid API key"})
    key = funded_key(gateway, "5")
    unknown = spec_example(gateway, key, model="invalid-model")
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Model 'invalid-model' not found"})
    one_message = [{"role": "user", "content": "x"}]
    for broken in ({"model": MODEL}, {"messages": one_message}, {"model": MODEL, "messages": []}):
        response = requests.post(
            gateway.root + "/api/v1/chat", headers={"Authorization": f"Bearer {key}"}, json=broken, timeout=15
        )
        assert (response.status_code, response.json()) == (
            400,
            {"error": "Missing required fields: model and messages array"},
        )
    assert balance(gateway, gateway.last_email, key) == 5  # refusals cost nothing


def test_a_request_the_upstream_fails_is_not_charged(gateway: Gateway) -> None:
    key = funded_key(gateway, "5")
    failed = spec_example(gateway, key, fake={"status": 500})
    assert failed.status_code == 502
    assert set(failed.json()) == {"error"}
    requests.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"}, timeout=15)
    assert balance(gateway, gateway.last_email) == 5


def test_model_list(gateway: Gateway) -> None:
    models = requests.get(gateway.root + "/api/models", timeout=15)
    assert models.status_code == 200
    assert MODEL in {m["id"] for m in models.json()["data"]}


FETCH_EXAMPLE = """
const response = await fetch('BASE/api/v1/chat', {
  method: 'POST',
  headers: {
    'Authorization': 'Bearer YOUR_API_KEY',
    'Content-Type': 'application/json'
  },
  body: JSON.stringify({
    model: 'groq/gemma-groq-416',
    messages: [
      { role: 'user', content: 'Hello!' }
    ]
  })
});

const data = await response.json();
console.log(data);
"""


def test_the_specs_fetch_example_runs_in_node(gateway: Gateway, tmp_path) -> None:  # type: ignore[no-untyped-def]
    node = shutil.which("node")
    assert node, "node is needed for the credits spec's JavaScript example (.ci/run installs it)"
    key = funded_key(gateway, "3")
    script = tmp_path / "example.mjs"
    script.write_text(FETCH_EXAMPLE.replace("BASE", gateway.root).replace("YOUR_API_KEY", key))
    result = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=30, check=True)  # noqa: S603
    assert "credits_charged: 1" in result.stdout and "credits_remaining: 2" in result.stdout, result.stdout
