"""google-genai -> the Gemini translation -> the real fake upstream over HTTP, and back.

No gateway routes here (they are wired elsewhere): the transport stands in for the route, so what is
tested is the translation against the fake's actual wire, tool-call signatures included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from google.genai import types

from tests.fakes.upstream import (
    REASONING_TEXT,
    FakeUpstreamHandle,
    completion_text,
    planned_tool_call,
    start_fake_upstream,
)
from tests.unit.gemini_harness import GeminiHarness

MODEL = "google/gemini-2.5-flash"


class OverFake(GeminiHarness):
    def __init__(self, upstream: FakeUpstreamHandle) -> None:
        super().__init__()
        self.upstream = upstream
        self.http = httpx.Client(base_url=upstream.base_url, timeout=10)

    def openai_reply(self, body: dict[str, Any]) -> bytes:
        response = self.http.post("/chat/completions", json=body)
        assert response.status_code == 200, response.text
        return response.content

    def openai_frames(self, body: dict[str, Any]) -> list[bytes]:
        with self.http.stream("POST", "/chat/completions", json=body) as response:
            assert response.status_code == 200
            return [line[6:].encode() for line in response.iter_lines() if line.startswith("data: ")]


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstreamHandle]:
    with start_fake_upstream(chunks=3) as handle:
        yield handle


@pytest.fixture
def harness(upstream: FakeUpstreamHandle) -> Iterator[OverFake]:
    upstream.reset_config()
    harness = OverFake(upstream)
    yield harness
    harness.http.close()


def weather_config() -> types.GenerateContentConfig:
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
def test_function_calling_round_trip_carries_the_fakes_signature(
    harness: OverFake, upstream: FakeUpstreamHandle, streamed: bool
) -> None:
    knob = {"name": "get_weather", "arguments": {"city": "Paris"}}
    upstream.configure(tool_call=knob, reasoning=True)
    chat = harness.client.chats.create(model=MODEL, config=weather_config())
    if streamed:
        chunks = list(chat.send_message_stream("Weather in Paris?"))
        parts = [p for c in chunks for p in c.candidates[0].content.parts]
        usage = chunks[-1].usage_metadata
    else:
        response = chat.send_message("Weather in Paris?")
        parts = response.candidates[0].content.parts
        usage = response.usage_metadata
    planned = planned_tool_call({"tools": [{}], "messages": []}, knob)
    assert planned is not None
    assert "".join(p.text for p in parts if p.thought) == REASONING_TEXT
    [call_part] = [p for p in parts if p.function_call]
    assert (call_part.function_call.name, call_part.function_call.args) == ("get_weather", {"city": "Paris"})
    assert call_part.function_call.id == planned["id"]
    assert call_part.thought_signature  # the fake's "sig-..." is no base64: it travels in an envelope
    assert usage.thoughts_token_count == 3 and usage.candidates_token_count == 3

    answer = types.Part.from_function_response(name="get_weather", response={"forecast": "sunny"})
    second = list(chat.send_message_stream(answer)) if streamed else [chat.send_message(answer)]
    assert "".join(p.text for c in second for p in c.candidates[0].content.parts if not p.thought) == completion_text(3)
    sent = upstream.last_request().json()
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "tool"]
    assistant = sent["messages"][1]
    assert assistant["tool_calls"][0]["id"] == planned["id"]
    assert [d for d in assistant["reasoning_details"] if d["type"] == "reasoning.encrypted"] == [
        {
            "type": "reasoning.encrypted",
            "data": planned["signature"],
            "id": planned["id"],
            "format": "google-gemini-v1",
            "index": 0,
        }
    ]
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": planned["id"], "content": '{"forecast":"sunny"}'}
    if streamed:
        assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_plain_text_and_token_counts(harness: OverFake, upstream: FakeUpstreamHandle) -> None:
    response = harness.client.models.generate_content(model=MODEL, contents="abcdefgh" * 4)
    assert response.text == completion_text(3)
    assert response.usage_metadata.prompt_token_count == 8
    assert response.usage_metadata.candidates_token_count == 3
    assert response.response_id.startswith("gen-")
    assert json.loads(upstream.last_request().body)["messages"] == [{"role": "user", "content": "abcdefgh" * 4}]
