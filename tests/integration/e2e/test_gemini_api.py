"""The Gemini-compatible API through the real gateway, driven by google-genai and the spec's curl."""

import json
import subprocess

import httpx
import pytest
from google import genai
from google.genai import errors, types

from tests.fakes.upstream import REASONING_TEXT, FakeUpstreamHandle, completion_text, planned_tool_call
from tests.integration.e2e.harness import Gateway

MODEL = "qwen/qwen3-32b"


def client(gateway: Gateway, key: str, root: str = "/api") -> genai.Client:
    options = types.HttpOptions(base_url=gateway.root + root, api_version="v1beta", timeout=15_000)
    return genai.Client(api_key=key, http_options=options)


def stats(gateway: Gateway, key: str) -> dict:
    return httpx.get(gateway.url() + "/stats", headers={"Authorization": f"Bearer {key}"}).json()


def test_generate_stream_chat_and_count_tokens_with_the_sdk(gateway: Gateway, upstream: FakeUpstreamHandle) -> None:
    key = gateway.new_key()
    sdk = client(gateway, key)
    answer = sdk.models.generate_content(model=MODEL, contents="abcdefgh" * 4)
    assert answer.text == completion_text(5)
    assert answer.usage_metadata.prompt_token_count == 8 and answer.usage_metadata.candidates_token_count == 5
    assert answer.model_version and answer.response_id
    assert answer.candidates[0].finish_reason == types.FinishReason.STOP

    bare = client(gateway, key, root="")  # kept: the SDK closes its connection pool when collected
    streamed = list(bare.models.generate_content_stream(model=MODEL, contents="hi"))
    assert "".join(chunk.text or "" for chunk in streamed) == completion_text(5)
    assert streamed[-1].usage_metadata.candidates_token_count == 5
    assert upstream.last_request().json()["stream"] is True

    chat = sdk.chats.create(model=MODEL, config=types.GenerateContentConfig(system_instruction="Be brief."))
    chat.send_message("first")
    chat.send_message("second")
    sent = upstream.last_request().json()["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[3]["content"] == "second"

    assert sdk.models.count_tokens(model=MODEL, contents="abcdefgh" * 4).total_tokens > 0
    usage = stats(gateway, key)
    assert usage["totalRequests"] == 4 and usage["totalCompletionTokens"] == 20


def _weather() -> types.GenerateContentConfig:
    declaration = types.FunctionDeclaration(
        name="get_weather",
        parameters=types.Schema(type=types.Type.OBJECT, properties={"city": types.Schema(type=types.Type.STRING)}),
    )
    return types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[declaration])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        thinking_config=types.ThinkingConfig(include_thoughts=True),
    )


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_function_calling_keeps_the_thought_signature(
    gateway: Gateway, upstream: FakeUpstreamHandle, streamed: bool
) -> None:
    knob = {"name": "get_weather", "arguments": {"city": "Paris"}}
    upstream.configure(tool_call=knob, reasoning=True)
    sdk = client(gateway, gateway.new_key())
    chat = sdk.chats.create(model=MODEL, config=_weather())
    if streamed:
        parts = [p for c in chat.send_message_stream("Weather in Paris?") for p in c.candidates[0].content.parts]
    else:
        parts = chat.send_message("Weather in Paris?").candidates[0].content.parts
    assert "".join(p.text for p in parts if p.thought) == REASONING_TEXT
    [call] = [p for p in parts if p.function_call]
    assert (call.function_call.name, call.function_call.args) == ("get_weather", {"city": "Paris"})
    assert call.thought_signature

    reply = types.Part.from_function_response(name="get_weather", response={"forecast": "sunny"})
    second = list(chat.send_message_stream(reply)) if streamed else [chat.send_message(reply)]
    assert "".join(p.text for c in second for p in c.candidates[0].content.parts if not p.thought)
    planned = planned_tool_call({"tools": [{}], "messages": []}, knob)
    assert planned is not None
    assistant = upstream.last_request().json()["messages"][1]
    assert assistant["tool_calls"][0]["id"] == planned["id"]
    signatures = [d["data"] for d in assistant["reasoning_details"] if d["type"] == "reasoning.encrypted"]
    assert signatures == [planned["signature"]]


def test_the_specs_curl_and_the_json_array_stream(gateway: Gateway) -> None:
    key = gateway.new_key()
    body = json.dumps({"contents": [{"parts": [{"text": "Explain quantum entanglement simply."}]}]})
    result = subprocess.run(  # noqa: S603
        [  # noqa: S607
            "curl", "-s", f"{gateway.root}/api/v1beta/models/{MODEL}:generateContent",
            "-H", "Content-Type: application/json", "-H", f"x-goog-api-key: {key}", "-d", body,
        ],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    answer = json.loads(result.stdout)
    assert answer["candidates"][0]["content"]["role"] == "model"
    assert answer["candidates"][0]["finishReason"] == "STOP"
    assert set(answer["usageMetadata"]) >= {"promptTokenCount", "candidatesTokenCount", "totalTokenCount"}

    array = httpx.post(f"{gateway.root}/v1beta/models/{MODEL}:streamGenerateContent?key={key}", content=body)
    assert array.status_code == 200
    chunks = array.json()
    assert isinstance(chunks, list) and chunks[-1]["usageMetadata"]["candidatesTokenCount"] == 5


def test_errors_are_in_googles_shape(gateway: Gateway) -> None:
    url = f"{gateway.root}/api/v1beta/models/{MODEL}:generateContent"
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    bad_key = httpx.post(url, json=body, headers={"x-goog-api-key": "sk-sluice-wrong"})
    assert bad_key.status_code == 401 and bad_key.json()["error"]["status"] == "UNAUTHENTICATED"
    key = gateway.new_key("tiny")
    headers = {"x-goog-api-key": key}
    missing = httpx.post(url, json={"contents": []}, headers=headers)
    assert missing.status_code == 400
    assert set(missing.json()["error"]) == {"code", "message", "status"}
    assert missing.json()["error"]["status"] == "INVALID_ARGUMENT"
    unknown = httpx.post(url.replace(MODEL, "nobody/nothing"), json=body, headers=headers)
    assert unknown.status_code == 404 and unknown.json()["error"]["status"] == "NOT_FOUND"
    for _ in range(3):
        assert httpx.post(url, json=body, headers=headers).status_code == 200
    limited = httpx.post(url, json=body, headers=headers)
    assert limited.status_code == 429 and limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert limited.headers["retry-after"]
    sdk = client(gateway, key)
    with pytest.raises(errors.ClientError) as raised:
        sdk.models.generate_content(model=MODEL, contents="hi")
    assert raised.value.code == 429
    no_route = httpx.get(f"{gateway.root}/api/v1beta/nothing-here", headers=headers)
    assert no_route.status_code == 404 and no_route.json()["error"]["status"] == "NOT_FOUND"


def test_model_list_and_one_model(gateway: Gateway) -> None:
    sdk = client(gateway, gateway.new_key())
    names = [model.name for model in sdk.models.list()]
    assert f"models/{MODEL}" in names
    one = sdk.models.get(model=MODEL)
    assert one.name == f"models/{MODEL}" and one.input_token_limit
