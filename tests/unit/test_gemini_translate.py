"""Gemini <-> OpenAI translation, function by function: requests, replies, errors, tokens, models."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from interfaces.http.gemini import (
    GeminiRequestError,
    UpstreamReplyError,
    count_tokens,
    gemini_error_body,
    google_status,
    model_id,
    translate_model,
    translate_models,
    translate_reply,
    translate_request,
)
from interfaces.http.gemini.signatures import MAGIC, SKIP_VALIDATOR, decode_signature, encode_signature

MODEL = "google/gemini-2.5-flash"
SIG = "R2VtaW5pIHNpZ25hdHVyZSBieXRlcyE/"
OK = b'{"contents": [{"parts": [{"text": "x"}]}], '  # a valid start, for the bodies that go wrong later


def upstream(body: dict[str, Any], *, stream: bool = False) -> dict[str, Any]:
    return json.loads(translate_request(MODEL, json.dumps(body).encode(), stream=stream).openai_body)


def user(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "parts": list(parts)}


def model_turn(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": "model", "parts": list(parts)}


# ---- requests ------------------------------------------------------------------------------


def test_minimal_request_and_stream_flags() -> None:
    chat = translate_request(MODEL, b'{"contents":[{"parts":[{"text":"hi"}]}]}', stream=False)
    assert json.loads(chat.openai_body) == {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    assert (chat.max_tokens, chat.include_thoughts, chat.candidate_count) == (None, False, 1)
    streamed = upstream({"contents": [user({"text": "hi"})]}, stream=True)
    assert streamed["stream"] is True and streamed["stream_options"] == {"include_usage": True}


def test_roles_system_instruction_and_thoughts() -> None:
    body = {
        "systemInstruction": {"parts": [{"text": "Be terse."}, {"text": "Be kind."}]},
        "contents": [
            user({"text": "a"}),
            model_turn({"text": "thinking...", "thought": True}, {"text": "b"}, {"text": "c"}),
            {"parts": [{"text": "d"}]},
        ],
        "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
        "cachedContent": "cachedContents/x",
        "labels": {"team": "a"},
        "somethingNew": 1,
    }
    assert upstream(body)["messages"] == [
        {"role": "system", "content": "Be terse.\nBe kind."},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "bc"},
        {"role": "user", "content": "d"},
    ]
    assert upstream({"systemInstruction": "plain", "contents": [user({"text": "x"})]})["messages"][0] == {
        "role": "system",
        "content": "plain",
    }


def test_media_parts() -> None:
    parts = [
        {"text": "look"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBO"}},
        {"inline_data": {"mime_type": "audio/mpeg", "data": "SUQz"}},
        {"inlineData": {"mimeType": "audio/wav", "data": "UklG"}},
        {"inlineData": {"mimeType": "video/mp4", "data": "AAAA"}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBE"}},
        {"inlineData": {"mimeType": "text/plain", "data": "aGk="}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://x.test/cat.jpg"}},
        {"file_data": {"mime_type": "application/pdf", "file_uri": "https://x.test/docs/paper.pdf?dl=1"}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/blob"}},
    ]
    assert upstream({"contents": [user(*parts)]})["messages"][0]["content"] == [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
        {"type": "input_audio", "input_audio": {"data": "SUQz", "format": "mp3"}},
        {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
        {"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAA"}},
        {"type": "file", "file": {"filename": "file.pdf", "file_data": "data:application/pdf;base64,JVBE"}},
        {"type": "file", "file": {"filename": "file.txt", "file_data": "data:text/plain;base64,aGk="}},
        {"type": "image_url", "image_url": {"url": "https://x.test/cat.jpg"}},
        {"type": "file", "file": {"filename": "paper.pdf", "file_data": "https://x.test/docs/paper.pdf?dl=1"}},
        {"type": "file", "file": {"filename": "file.pdf", "file_data": "gs://bucket/blob"}},
    ]


def test_generation_config() -> None:
    config = {
        "temperature": 0,
        "topP": 0.9,
        "topK": 40.0,
        "maxOutputTokens": 100,
        "stopSequences": ["END"],
        "candidateCount": 2,
        "presencePenalty": 0.5,
        "frequency_penalty": -0.5,
        "seed": 7,
        "responseLogprobs": True,
        "logprobs": 3,
        "responseModalities": ["TEXT", "IMAGE"],
        "imageConfig": {"aspectRatio": "16:9"},
    }
    chat = translate_request(
        MODEL, json.dumps({"contents": [user({"text": "x"})], "generationConfig": config}).encode(), stream=False
    )
    sent = json.loads(chat.openai_body)
    del sent["model"], sent["messages"]
    assert sent == {
        "temperature": 0,
        "top_p": 0.9,
        "presence_penalty": 0.5,
        "frequency_penalty": -0.5,
        "top_k": 40,
        "seed": 7,
        "max_tokens": 100,
        "stop": ["END"],
        "n": 2,
        "logprobs": True,
        "top_logprobs": 3,
        "modalities": ["text", "image"],
        "image_config": {"aspect_ratio": "16:9"},
    }
    assert (chat.max_tokens, chat.candidate_count) == (100, 2)
    zero = translate_request(
        MODEL, b'{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":0}}', stream=False
    )
    assert zero.max_tokens is None and "max_tokens" not in json.loads(zero.openai_body)


@pytest.mark.parametrize(
    ("thinking", "reasoning", "include"),
    [
        ({"thinkingBudget": 1024, "includeThoughts": True}, {"max_tokens": 1024}, True),
        ({"thinking_budget": 0}, {"effort": "none"}, False),
        ({"thinkingBudget": -1}, {"enabled": True}, False),
        ({"thinkingLevel": "HIGH"}, {"effort": "high"}, False),
        ({"thinking_level": "low", "include_thoughts": True}, {"effort": "low"}, True),
        ({"includeThoughts": True}, None, True),
    ],
)
def test_thinking_config(thinking: dict[str, Any], reasoning: dict[str, Any] | None, include: bool) -> None:
    body = json.dumps({"contents": [user({"text": "x"})], "generationConfig": {"thinkingConfig": thinking}}).encode()
    chat = translate_request(MODEL, body, stream=False)
    assert json.loads(chat.openai_body).get("reasoning") == reasoning
    assert chat.include_thoughts is include


def test_response_schema_becomes_json_schema() -> None:
    schema = {
        "type": "OBJECT",
        "properties": {
            "name": {"type": "STRING", "description": "who"},
            "tags": {
                "type": "ARRAY",
                "items": {"type": "STRING", "format": "enum", "enum": ["a", "b"]},
                "maxItems": "3",
            },
            "age": {"type": "INTEGER", "nullable": True, "minimum": 0},
            "pet": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}], "nullable": True},
        },
        "required": ["name"],
        "propertyOrdering": ["tags", "name"],
        "example": {"name": "x"},
    }
    config = {"responseMimeType": "application/json", "responseSchema": schema}
    assert upstream({"contents": [user({"text": "x"})], "generationConfig": config})["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "response",
            "schema": {
                "type": "object",
                "properties": {
                    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "maxItems": 3},
                    "name": {"type": "string", "description": "who"},
                    "age": {"type": ["integer", "null"], "minimum": 0},
                    "pet": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]},
                },
                "required": ["name"],
            },
        },
    }
    raw = {"type": "object", "properties": {"x": {"type": "integer"}}, "additionalProperties": False}
    config = {"responseMimeType": "application/json", "responseJsonSchema": raw}
    sent = upstream({"contents": [user({"text": "x"})], "generationConfig": config})
    assert sent["response_format"]["json_schema"]["schema"] == raw
    config = {"responseMimeType": "application/json"}
    assert upstream({"contents": [user({"text": "x"})], "generationConfig": config})["response_format"] == {
        "type": "json_object"
    }


def test_tools_and_tool_config() -> None:
    tools = [
        {
            "functionDeclarations": [
                {
                    "name": "a",
                    "description": "A",
                    "parameters": {"type": "OBJECT", "properties": {"q": {"type": "STRING"}}},
                },
                {"name": "b", "parametersJsonSchema": {"type": "object", "properties": {}}},
                {"name": "c"},
            ]
        },
        {"googleSearch": {}},
    ]
    sent = upstream({"contents": [user({"text": "x"})], "tools": tools})
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "a",
                "description": "A",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
        },
        {"type": "function", "function": {"name": "b", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "c", "parameters": {"type": "object", "properties": {}}}},
    ]
    assert "tool_choice" not in sent

    def choice(config: dict[str, Any]) -> tuple[Any, list[str]]:
        sent = upstream(
            {"contents": [user({"text": "x"})], "tools": tools, "toolConfig": {"functionCallingConfig": config}}
        )
        return sent.get("tool_choice"), [t["function"]["name"] for t in sent["tools"]]

    assert choice({"mode": "AUTO"}) == ("auto", ["a", "b", "c"])
    assert choice({"mode": "NONE"}) == ("none", ["a", "b", "c"])
    assert choice({"mode": "ANY"}) == ("required", ["a", "b", "c"])
    assert choice({"mode": "ANY", "allowedFunctionNames": ["b", "c"]}) == ("required", ["b", "c"])
    assert choice({"mode": "ANY", "allowed_function_names": ["a"]}) == (
        {"type": "function", "function": {"name": "a"}},
        ["a"],
    )


def test_function_calls_and_responses_pair_by_id_then_by_name() -> None:
    contents = [
        user({"text": "weather and time?"}),
        model_turn(
            {"text": "Let me check.", "thoughtSignature": SIG},
            {"functionCall": {"name": "weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "time", "args": {}, "id": "given-id"}},
            {"functionCall": {"name": "weather", "args": {"city": "Rome"}}},
        ),
        user(
            {"functionResponse": {"name": "time", "response": {"now": "noon"}, "id": "given-id"}},
            {"functionResponse": {"name": "weather", "response": {"t": 20}}},
            {"functionResponse": {"name": "weather", "response": {"t": 25}}},
            {"text": "thanks"},
        ),
    ]
    messages = upstream({"contents": contents})["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            {"id": "call_1_0", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}},
            {"id": "given-id", "type": "function", "function": {"name": "time", "arguments": "{}"}},
            {"id": "call_1_2", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Rome"}'}},
        ],
        "reasoning_details": [
            {"type": "reasoning.encrypted", "data": SIG, "id": None, "format": "google-gemini-v1", "index": 0}
        ],
    }
    assert messages[2:] == [
        {"role": "tool", "tool_call_id": "given-id", "content": '{"now":"noon"}'},
        {"role": "tool", "tool_call_id": "call_1_0", "content": '{"t":20}'},
        {"role": "tool", "tool_call_id": "call_1_2", "content": '{"t":25}'},
        {"role": "user", "content": "thanks"},
    ]


def test_signatures_on_calls_keep_the_call_id_and_upstream_order() -> None:
    urlsafe = base64.urlsafe_b64encode(base64.b64decode(SIG)).decode()  # how google-genai re-encodes it
    contents = [
        user({"text": "go"}),
        model_turn(
            {"functionCall": {"name": "f", "args": {}, "id": "c1"}, "thoughtSignature": urlsafe},
            {"functionCall": {"name": "g", "args": {}, "id": "c2"}, "thought_signature": SKIP_VALIDATOR},
        ),
    ]
    assert upstream({"contents": contents})["messages"][1]["reasoning_details"] == [
        {"type": "reasoning.encrypted", "data": SIG, "id": "c1", "format": "google-gemini-v1", "index": 0},
        {"type": "reasoning.encrypted", "data": SKIP_VALIDATOR, "id": "c2", "format": "google-gemini-v1", "index": 1},
    ]


def test_signature_codec() -> None:
    gemini = [{"type": "reasoning.encrypted", "data": SIG, "id": "c1", "format": "google-gemini-v1", "index": 0}]
    assert encode_signature(gemini, "c1") == SIG
    assert decode_signature(SIG, "c1") == [{k: v for k, v in gemini[0].items() if k != "index"}]
    claude = [
        {"type": "reasoning.text", "text": "hmm", "signature": "EqQB+/x=", "format": "anthropic-claude-v1", "index": 0},
        {"type": "reasoning.encrypted", "data": "sig-1", "id": "c9", "format": "google-gemini-v1", "index": 1},
    ]
    for details, call_id in ((claude, None), (claude[1:], "c9"), (gemini, "other-call")):
        wrapped = encode_signature(details, call_id)
        assert base64.b64decode(wrapped).startswith(MAGIC)
        assert decode_signature(wrapped, call_id) == details
        # google-genai decodes the bytes and re-encodes them URL-safe: still the same entries
        resent = base64.urlsafe_b64encode(base64.b64decode(wrapped)).decode().rstrip("=")
        assert decode_signature(resent, call_id) == details
    assert decode_signature("not base64 at all!", None)[0]["data"] == "not base64 at all!"


def test_consecutive_model_turns_are_one_assistant_message() -> None:
    """google-genai's chat history keeps every streamed chunk as a model turn of its own."""
    contents = [
        user({"text": "go"}),
        model_turn({"text": "Let"}),
        model_turn({"text": " me", "thought": True}, {"text": " see."}),
        model_turn({"functionCall": {"name": "f", "args": {}}, "thoughtSignature": SIG}),
        model_turn({"functionCall": {"name": "g", "args": {}}}),
        user({"functionResponse": {"name": "g", "response": {}}}, {"functionResponse": {"name": "f", "response": {}}}),
    ]
    messages = upstream({"contents": contents})["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": "Let see.",
        "tool_calls": [
            {"id": "call_3_0", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "call_4_0", "type": "function", "function": {"name": "g", "arguments": "{}"}},
        ],
        "reasoning_details": [
            {"type": "reasoning.encrypted", "data": SIG, "id": "call_3_0", "format": "google-gemini-v1", "index": 0}
        ],
    }
    assert [(m["role"], m.get("tool_call_id")) for m in messages[2:]] == [("tool", "call_4_0"), ("tool", "call_3_0")]


def test_model_turn_without_text_keeps_its_signature() -> None:
    contents = [
        user({"text": "a"}),
        model_turn({"text": "secret", "thought": True, "thoughtSignature": SIG}),
        user({"text": "b"}),
    ]
    messages = upstream({"contents": contents})["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": "",
        "reasoning_details": [
            {"type": "reasoning.encrypted", "data": SIG, "id": None, "format": "google-gemini-v1", "index": 0}
        ],
    }
    only_thoughts = [user({"text": "a"}), model_turn({"text": "secret", "thought": True}), user({"text": "b"})]
    assert [m["role"] for m in upstream({"contents": only_thoughts})["messages"]] == ["user", "user"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", None),
        (b"", None),
        (b"[1, 2]", None),
        (b"{}", "contents"),
        (b'{"contents": []}', "contents"),
        (b'{"contents": {"parts": []}}', "contents"),
        (b'{"contents": [{"parts": []}]}', "contents[0].parts"),
        (b'{"contents": [{"role": "robot", "parts": [{"text": "x"}]}]}', "contents[0].role"),
        (b'{"contents": [{"parts": [{"wat": 1}]}]}', "contents[0].parts[0]"),
        (
            b'{"contents": [{"parts": [{"text": "a", "inlineData": {"mimeType": "image/png", "data": ""}}]}]}',
            "contents[0].parts[0]",
        ),
        (b'{"contents": [{"parts": [{"executableCode": {"code": "1"}}]}]}', "contents[0].parts[0].executableCode"),
        (b'{"contents": [{"parts": [{"text": 5}]}]}', "contents[0].parts[0].text"),
        (b'{"contents": [{"parts": [{"inlineData": {"data": "x"}}]}]}', "contents[0].parts[0].inlineData.mimeType"),
        (b'{"contents": [{"parts": [{"functionCall": {"name": "f"}}]}]}', "contents[0].parts[0]"),
        (
            b'{"contents": [{"parts": [{"functionResponse": {"name": "f", "response": {}}}]}]}',
            "contents[0].parts[0].functionResponse",
        ),
        (
            b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"temperature": "hot"}}',
            "generationConfig.temperature",
        ),
        (
            b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"temperature": true}}',
            "generationConfig.temperature",
        ),
        (
            b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"maxOutputTokens": 1.5}}',
            "generationConfig.maxOutputTokens",
        ),
        (
            b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"stopSequences": "END"}}',
            "generationConfig.stopSequences",
        ),
        (
            OK + b'"generationConfig": {"thinkingConfig": {"thinkingBudget": 5, "thinkingLevel": "LOW"}}}',
            "generationConfig.thinkingConfig",
        ),
        (
            b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"responseSchema": {"type": "OBJECT"}}}',
            "generationConfig.responseMimeType",
        ),
        (
            OK + b'"tools": [{"functionDeclarations": [{"description": "no name"}]}]}',
            "tools[0].functionDeclarations[0].name",
        ),
    ],
)
def test_bad_requests_name_the_field(body: bytes, field: str | None) -> None:
    with pytest.raises(GeminiRequestError) as caught:
        translate_request(MODEL, body, stream=False)
    assert caught.value.field == field
    assert caught.value.http_status == 400 and caught.value.google_status == "INVALID_ARGUMENT"


# ---- replies -------------------------------------------------------------------------------


def completion(message: dict[str, Any], finish: str | None = "stop", **extra: Any) -> bytes:
    body = {
        "id": "gen-1",
        "model": "google/gemini-2.5-flash-001",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish, **extra}],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 30,
            "total_tokens": 40,
            "completion_tokens_details": {"reasoning_tokens": 12},
            "prompt_tokens_details": {"cached_tokens": 4},
        },
    }
    return json.dumps(body).encode()


def reply(
    message: dict[str, Any], finish: str | None = "stop", *, thoughts: bool = False, **extra: Any
) -> dict[str, Any]:
    return json.loads(translate_reply(completion(message, finish, **extra), model=MODEL, include_thoughts=thoughts))


def test_reply_text_thoughts_images_and_usage() -> None:
    message = {
        "content": "Here.",
        "reasoning": "I should draw.",
        "images": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}}],
    }
    assert reply(message, thoughts=True) == {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "I should draw.", "thought": True},
                        {"text": "Here."},
                        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0K"}},
                    ],
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 10,
            "candidatesTokenCount": 18,
            "totalTokenCount": 40,
            "thoughtsTokenCount": 12,
            "cachedContentTokenCount": 4,
        },
        "modelVersion": "google/gemini-2.5-flash-001",
        "responseId": "gen-1",
    }
    assert reply(message)["candidates"][0]["content"]["parts"][0] == {"text": "Here."}


def test_reply_tool_calls_carry_signatures() -> None:
    message = {
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": ""}},
        ],
        "reasoning_details": [
            {"type": "reasoning.text", "text": "plain thoughts", "format": "google-gemini-v1", "index": 0},
            {"type": "reasoning.encrypted", "data": SIG, "id": "c2", "format": "google-gemini-v1", "index": 1},
            {"type": "reasoning.encrypted", "data": "sig-x", "id": None, "format": "google-gemini-v1", "index": 2},
        ],
    }
    parts = reply(message, "tool_calls")["candidates"][0]["content"]["parts"]
    assert parts[0]["functionCall"] == {"name": "f", "args": {"a": 1}, "id": "c1"}
    assert parts[1] == {"functionCall": {"name": "g", "args": {}, "id": "c2"}, "thoughtSignature": SIG}
    assert decode_signature(parts[0]["thoughtSignature"], "c1") == [message["reasoning_details"][2]]
    assert reply(message, "tool_calls")["candidates"][0]["finishReason"] == "STOP"


def test_reply_signature_without_calls_rides_on_the_text() -> None:
    details = [{"type": "reasoning.encrypted", "data": SIG, "format": "google-gemini-v1", "index": 0}]
    parts = reply({"content": "Hi", "reasoning_details": details})["candidates"][0]["content"]["parts"]
    assert parts == [{"text": "Hi", "thoughtSignature": SIG}]
    parts = reply({"content": "", "reasoning_details": details})["candidates"][0]["content"]["parts"]
    assert parts == [{"text": "", "thoughtSignature": SIG}]


@pytest.mark.parametrize(
    ("finish", "native", "expected"),
    [
        ("stop", None, "STOP"),
        ("length", None, "MAX_TOKENS"),
        ("content_filter", None, "SAFETY"),
        ("tool_calls", None, "STOP"),
        ("function_call", None, "STOP"),
        ("error", None, "OTHER"),
        ("something_new", None, "OTHER"),
        (None, None, "FINISH_REASON_UNSPECIFIED"),
        ("content_filter", "RECITATION", "RECITATION"),
        ("stop", "end_turn", "STOP"),
    ],
)
def test_finish_reasons(finish: str | None, native: str | None, expected: str) -> None:
    answer = reply({"content": "x"}, finish, native_finish_reason=native)
    assert answer["candidates"][0]["finishReason"] == expected


def test_malformed_tool_arguments() -> None:
    message = {"tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}
    candidate = reply(message, "tool_calls")["candidates"][0]
    assert candidate["content"]["parts"] == [{"functionCall": {"name": "f", "args": {}, "id": "c1"}}]
    assert candidate["finishReason"] == "MALFORMED_FUNCTION_CALL"


def test_reply_tolerates_a_thin_or_odd_upstream() -> None:
    answer = json.loads(
        translate_reply(b'{"choices": [{"message": {"content": "x"}}]}', model=MODEL, include_thoughts=False)
    )
    assert answer == {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "x"}]},
                "finishReason": "FINISH_REASON_UNSPECIFIED",
                "index": 0,
            }
        ],
        "modelVersion": MODEL,
    }
    content = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    odd = json.dumps({"choices": [{"message": {"content": content}}], "usage": {"prompt_tokens": "x"}}).encode()
    answer = json.loads(translate_reply(odd, model=MODEL, include_thoughts=False))
    assert answer["candidates"][0]["content"]["parts"] == [{"text": "ab"}]
    assert answer["usageMetadata"] == {"promptTokenCount": 0, "candidatesTokenCount": 0, "totalTokenCount": 0}
    for bad in (b"nope", b"[]"):
        with pytest.raises(UpstreamReplyError):
            translate_reply(bad, model=MODEL, include_thoughts=False)


# ---- errors, tokens, models ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (402, "RESOURCE_EXHAUSTED"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (413, "INVALID_ARGUMENT"),
        (418, "INVALID_ARGUMENT"),
        (429, "RESOURCE_EXHAUSTED"),
        (499, "CANCELLED"),
        (500, "INTERNAL"),
        (502, "UNAVAILABLE"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
        (507, "INTERNAL"),
        (302, "UNKNOWN"),
    ],
)
def test_error_statuses(status: int, name: str) -> None:
    assert google_status(status) == name
    assert json.loads(gemini_error_body(status, "m")) == {"error": {"code": status, "message": "m", "status": name}}


def test_count_tokens_both_forms() -> None:
    contents = [
        user({"text": "a" * 40}, {"text": "b"}, {"inlineData": {"mimeType": "image/png", "data": "x"}}),
        model_turn({"functionCall": {"name": "f", "args": {"k": "v"}}}),
    ]
    assert json.loads(count_tokens(json.dumps({"contents": contents}).encode())) == {"totalTokens": 10 + 1 + 258 + 7}
    wrapped = {
        "generateContentRequest": {
            "model": "models/x",
            "contents": contents,
            "systemInstruction": {"parts": [{"text": "s" * 8}]},
            "tools": [{"functionDeclarations": [{"name": "f"}]}],
        }
    }
    assert json.loads(count_tokens(json.dumps(wrapped).encode())) == {"totalTokens": 276 + 2 + 10}
    with pytest.raises(GeminiRequestError):
        count_tokens(b'{"contents": []}')
    with pytest.raises(GeminiRequestError):
        count_tokens(b"[]")


LISTING = json.dumps(
    {
        "data": [
            {
                "id": "qwen/qwen3-32b",
                "name": "Qwen3",
                "description": "d",
                "context_length": 40960,
                "top_provider": {"max_completion_tokens": 8192},
                "architecture": {"output_modalities": ["text"]},
                "supported_parameters": ["reasoning"],
            },
            {"id": "x/emb", "architecture": {"output_modalities": ["embeddings"]}},
            {"id": "y/img", "architecture": {"output_modalities": ["image", "text"]}},
        ]
    }
).encode()


def test_models_listing_and_one_model() -> None:
    listing = json.loads(translate_models(LISTING))
    assert listing["models"][0] == {
        "name": "models/qwen/qwen3-32b",
        "baseModelId": "qwen/qwen3-32b",
        "version": "001",
        "displayName": "Qwen3",
        "description": "d",
        "inputTokenLimit": 40960,
        "outputTokenLimit": 8192,
        "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"],
        "thinking": True,
    }
    assert [m["name"] for m in listing["models"]] == ["models/qwen/qwen3-32b", "models/y/img"]
    assert "nextPageToken" not in listing
    first = json.loads(translate_models(LISTING, page_size=1))
    assert [m["name"] for m in first["models"]] == ["models/qwen/qwen3-32b"] and first["nextPageToken"] == "1"
    second = json.loads(translate_models(LISTING, page_size=1, page_token="1"))
    assert [m["name"] for m in second["models"]] == ["models/y/img"] and "nextPageToken" not in second
    assert json.loads(translate_model(LISTING, "models/qwen/qwen3-32b"))["displayName"] == "Qwen3"
    assert json.loads(translate_model(LISTING, "y/img"))["displayName"] == "y/img"
    assert translate_model(LISTING, "models/x/emb") is None
    assert translate_model(LISTING, "models/none") is None
    assert model_id("models/a/b") == "a/b" and model_id("a/b") == "a/b"
    with pytest.raises(UpstreamReplyError):
        translate_models(b'{"error": {}}')
