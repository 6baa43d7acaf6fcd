"""google-genai itself reads what the Gemini translation layer writes, and writes what it reads."""

from __future__ import annotations

import base64

import pytest
from google.genai import errors, types

from tests.unit.gemini_harness import GEMINI_SIGNATURE, GeminiHarness, OpenAIScript

MODEL = "qwen/qwen3-32b"


def weather_tool() -> types.Tool:
    return types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name="get_weather",
                description="The weather in a city",
                parameters=types.Schema(
                    type=types.Type.OBJECT,
                    properties={"city": types.Schema(type=types.Type.STRING)},
                    required=["city"],
                ),
            )
        ]
    )


def test_generate_content_text_usage_and_ids() -> None:
    harness = GeminiHarness()
    response = harness.client.models.generate_content(
        model=MODEL,
        contents="Say hello",
        config=types.GenerateContentConfig(system_instruction="Be brief", temperature=0.2, max_output_tokens=64),
    )
    assert response.text == "Hello there"
    candidate = response.candidates[0]
    assert candidate.finish_reason == types.FinishReason.STOP
    assert candidate.content.role == "model"
    usage = response.usage_metadata
    assert (usage.prompt_token_count, usage.candidates_token_count, usage.total_token_count) == (11, 7, 18)
    assert response.model_version == MODEL
    assert response.response_id == "gen-123"
    sent = harness.last_upstream
    assert sent["model"] == MODEL
    assert sent["messages"] == [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Say hello"}]
    assert sent["temperature"] == 0.2 and sent["max_tokens"] == 64
    assert "stream" not in sent
    request = harness.requests[-1]
    assert request.url.path == "/api/v1beta/models/qwen/qwen3-32b:generateContent"
    assert request.headers["x-goog-api-key"] == "sk-gemini-test"


@pytest.mark.parametrize("alt_sse", [True, False], ids=["alt-sse", "json-array"])
def test_stream_text_arrives_per_delta_with_usage_on_the_last_chunk(alt_sse: bool) -> None:
    harness = GeminiHarness(OpenAIScript(text="one two three"))
    if alt_sse:
        chunks = list(harness.client.models.generate_content_stream(model=MODEL, contents="count"))
    else:
        # google-genai always asks for alt=sse; parse the JSON-array form with its types directly
        import json

        from interfaces.http.gemini import JsonArrayFramer, StreamTranslator

        translator, framer = StreamTranslator(MODEL, False), JsonArrayFramer()
        body = {"model": MODEL, "messages": [{"role": "user", "content": "count"}]}
        frames = harness.script.frames(body)
        wire = b"".join(framer.frame(c) for f in frames for c in translator.feed(json.dumps(f).encode()))
        wire += b"".join(framer.frame(c) for c in translator.finish()) + framer.close()
        chunks = [types.GenerateContentResponse._from_response(response=r, kwargs={}) for r in json.loads(wire)]
    assert [c.text for c in chunks] == ["one", " two", " three", ""]
    last = chunks[-1]
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata.total_token_count == 18
    assert all(c.candidates[0].finish_reason is None for c in chunks[:-1])
    assert all(c.model_version == MODEL and c.response_id == "gen-456" for c in chunks)
    if alt_sse:
        assert harness.requests[-1].url.params["alt"] == "sse"
        assert harness.last_upstream["stream"] is True
        assert harness.last_upstream["stream_options"] == {"include_usage": True}


async def test_the_async_client_reads_the_stream_too() -> None:
    harness = GeminiHarness(OpenAIScript(text="one two"))
    stream = await harness.client.aio.models.generate_content_stream(model=MODEL, contents="count")
    chunks = [chunk async for chunk in stream]
    assert [c.text for c in chunks] == ["one", " two", ""]
    assert chunks[-1].usage_metadata.total_token_count == 18
    response = await harness.client.aio.models.generate_content(model=MODEL, contents="hi")
    assert response.text == "one two"


def test_a_streamed_chat_keeps_its_history() -> None:
    """google-genai's chats drop a turn if any chunk lacks a candidate with parts."""
    harness = GeminiHarness()
    chat = harness.client.chats.create(model=MODEL)
    assert "".join(c.text or "" for c in chat.send_message_stream("hi")) == "Hello there"
    history = chat.get_history(curated=True)  # the SDK keeps each chunk's content as a model turn of its own
    assert history[0].role == "user" and {c.role for c in history[1:]} == {"model"}
    assert "".join(p.text or "" for c in history[1:] for p in c.parts) == "Hello there"
    assert "".join(c.text or "" for c in chat.send_message_stream("again")) == "Hello there"
    assert harness.last_upstream["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello there"},
        {"role": "user", "content": "again"},
    ]


@pytest.mark.parametrize("signature", [GEMINI_SIGNATURE, "sig-7f3a9c"], ids=["gemini-base64", "opaque"])
@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
def test_function_calling_turn_two_sends_turn_ones_signature_back(signature: str, streamed: bool) -> None:
    harness = GeminiHarness(OpenAIScript(signature=signature, call_arguments={"city": "Paris", "days": 2}))
    config = types.GenerateContentConfig(
        tools=[weather_tool()], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True)
    )
    chat = harness.client.chats.create(model=MODEL, config=config)
    if streamed:
        chunks = list(chat.send_message_stream("Weather in Paris?"))
        calls = [call for chunk in chunks for call in chunk.function_calls or []]
        parts = [part for chunk in chunks for part in chunk.candidates[0].content.parts]
    else:
        first = chat.send_message("Weather in Paris?")
        calls = first.function_calls
        parts = first.candidates[0].content.parts
    assert len(calls) == 1
    assert (calls[0].name, calls[0].args, calls[0].id) == ("get_weather", {"city": "Paris", "days": 2}, "call_up_1")
    signed = [p for p in parts if p.thought_signature]
    assert len(signed) == 1 and signed[0].function_call is not None
    if signature == GEMINI_SIGNATURE:  # Google's own signature reaches the client unchanged
        assert signed[0].thought_signature == base64.b64decode(GEMINI_SIGNATURE)
    tools_sent = harness.last_upstream["tools"]
    assert tools_sent == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]

    answer = types.Part.from_function_response(name="get_weather", response={"forecast": "sunny"})
    second = chat.send_message_stream(answer) if streamed else [chat.send_message(answer)]
    assert "".join(c.text or "" for c in second) == "Hello there"
    messages = harness.last_upstream["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    assistant, tool = messages[1], messages[2]
    assert assistant["tool_calls"] == [
        {
            "id": "call_up_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris","days":2}'},
        }
    ]
    assert assistant["reasoning_details"] == [
        {"type": "reasoning.encrypted", "data": signature, "id": "call_up_1", "format": "google-gemini-v1", "index": 0}
    ]
    assert tool == {"role": "tool", "tool_call_id": "call_up_1", "content": '{"forecast":"sunny"}'}
    roles = [c.role for c in chat.get_history(curated=True)]
    assert roles[0] == "user" and roles.count("user") == 2 and roles[-1] == "model"


def test_thoughts_come_back_only_when_asked() -> None:
    harness = GeminiHarness(OpenAIScript(reasoning="Let me think"))
    plain = harness.client.models.generate_content(model=MODEL, contents="hi")
    assert [p.thought for p in plain.candidates[0].content.parts] == [None]
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=512)
    )
    answer = harness.client.models.generate_content(model=MODEL, contents="hi", config=config)
    parts = answer.candidates[0].content.parts
    assert [(p.text, p.thought) for p in parts] == [("Let me think", True), ("Hello there", None)]
    assert answer.text == "Hello there"
    assert answer.usage_metadata.thoughts_token_count == 3
    assert answer.usage_metadata.candidates_token_count == 7
    assert harness.last_upstream["reasoning"] == {"max_tokens": 512}
    streamed = list(harness.client.models.generate_content_stream(model=MODEL, contents="hi", config=config))
    thoughts = "".join(p.text for c in streamed for p in c.candidates[0].content.parts if p.thought)
    assert thoughts == "Let me think"


def test_structured_output_schema_reaches_the_upstream_as_json_schema() -> None:
    harness = GeminiHarness(OpenAIScript(text='{"name": "x"}'))
    config = types.GenerateContentConfig(
        response_mime_type="application/json",
        response_schema=types.Schema(
            type=types.Type.OBJECT,
            properties={"name": types.Schema(type=types.Type.STRING, nullable=True)},
            property_ordering=["name"],
        ),
    )
    response = harness.client.models.generate_content(model=MODEL, contents="json please", config=config)
    assert response.text == '{"name": "x"}'
    assert harness.last_upstream["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "response",
            "schema": {"type": "object", "properties": {"name": {"type": ["string", "null"]}}},
        },
    }


def test_mid_stream_error_raises_api_error() -> None:
    harness = GeminiHarness(OpenAIScript(text="a b c d", stream_error_after=2))
    received = []
    with pytest.raises(errors.ServerError) as caught:
        for chunk in harness.client.models.generate_content_stream(model=MODEL, contents="hi"):
            received.append(chunk.text)
    assert received == ["a", " b"]
    assert caught.value.code == 502
    assert caught.value.status == "UNAVAILABLE"
    assert "Provider disconnected" in caught.value.message


def test_bad_request_is_a_client_error_with_googles_status() -> None:
    harness = GeminiHarness()
    with pytest.raises(errors.ClientError) as caught:
        harness.client.models.generate_content(
            model=MODEL, contents="hi", config={"http_options": {"extra_body": {"generationConfig": {"topP": "x"}}}}
        )
    assert caught.value.code == 400
    assert caught.value.status == "INVALID_ARGUMENT"
    assert "generationConfig.topP" in caught.value.message


def test_count_tokens() -> None:
    harness = GeminiHarness()
    counted = harness.client.models.count_tokens(model=MODEL, contents="a" * 40)
    assert counted.total_tokens == 10


def test_models_list_and_get() -> None:
    harness = GeminiHarness()
    listed = list(harness.client.models.list())
    assert [m.name for m in listed] == ["models/qwen/qwen3-32b", "models/openai/gpt-4o-mini"]
    one = harness.client.models.get(model="qwen/qwen3-32b")
    assert one.name == "models/qwen/qwen3-32b"
    assert one.display_name == "Qwen: Qwen3 32B"
    assert (one.input_token_limit, one.output_token_limit) == (40960, 40960)
    assert one.supported_actions == ["generateContent", "streamGenerateContent", "countTokens"]
    assert one.thinking is True
    paged = list(harness.client.models.list(config={"page_size": 1}))
    assert [m.name for m in paged] == ["models/qwen/qwen3-32b", "models/openai/gpt-4o-mini"]
    with pytest.raises(errors.ClientError) as caught:
        harness.client.models.get(model="nope/missing")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"
