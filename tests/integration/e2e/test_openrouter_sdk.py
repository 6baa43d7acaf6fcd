"""The openrouter SDK, exactly as the proxy spec's Python example uses it."""

from openrouter import OpenRouter

from tests.fakes.upstream import completion_text
from tests.integration.e2e.harness import Gateway


def test_spec_example_plain(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = OpenRouter(api_key=key, server_url=gateway.url("/proxy/v1"))
    response = client.chat.send(
        model="qwen/qwen3-32b",
        messages=[{"role": "user", "content": "Tell me a joke."}],
        stream=False,
    )
    assert response.choices[0].message.content == completion_text(5)


def test_streaming(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = OpenRouter(api_key=key, server_url=gateway.url("/proxy/v1"))
    stream = client.chat.send(
        model="qwen/qwen3-32b", messages=[{"role": "user", "content": "Tell me a joke."}], stream=True
    )
    text = "".join(event.choices[0].delta.content or "" for event in stream if event.choices)
    assert text == completion_text(5)
