"""StreamTranslator: OpenAI chunks in, Gemini chunks out, frame by frame."""

from __future__ import annotations

import json
from typing import Any

from interfaces.http.gemini import JsonArrayFramer, StreamTranslator, sse_event
from interfaces.http.gemini.signatures import decode_signature

MODEL = "anthropic/claude-sonnet-4"
USAGE = {
    "prompt_tokens": 5,
    "completion_tokens": 9,
    "total_tokens": 14,
    "completion_tokens_details": {"reasoning_tokens": 4},
}


def frame(delta: dict[str, Any] | None = None, finish: str | None = None, index: int = 0, **extra: Any) -> bytes:
    choices = [] if delta is None else [{"index": index, "delta": delta, "finish_reason": finish}]
    return json.dumps({"id": "gen-9", "model": MODEL, "choices": choices, **extra}).encode()


def feed(translator: StreamTranslator, *frames: bytes) -> list[list[dict[str, Any]]]:
    """What each frame gave, decoded."""
    return [[json.loads(out) for out in translator.feed(f)] for f in frames]


def parts(chunk: dict[str, Any], candidate: int = 0) -> list[dict[str, Any]]:
    return chunk["candidates"][candidate]["content"]["parts"]


def test_text_goes_out_at_once_and_the_last_chunk_waits_for_usage() -> None:
    t = StreamTranslator(MODEL, include_thoughts=False)
    got = feed(
        t,
        frame({"role": "assistant", "content": ""}),
        frame({"content": "Hel"}),
        frame({"reasoning": "hidden"}),
        frame({"content": "lo"}),
        frame({}, "stop"),
        frame(usage=USAGE),
    )
    assert [len(g) for g in got] == [0, 1, 0, 1, 0, 1]
    assert got[1][0] == {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}, "index": 0}],
        "modelVersion": MODEL,
        "responseId": "gen-9",
    }
    last = got[5][0]
    assert last["candidates"] == [
        {"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}
    ]
    assert last["usageMetadata"] == {
        "promptTokenCount": 5,
        "candidatesTokenCount": 5,
        "totalTokenCount": 14,
        "thoughtsTokenCount": 4,
    }
    assert t.feed(b"[DONE]") == [] and t.finish() == []


def test_thoughts_stream_as_thought_parts_when_asked() -> None:
    t = StreamTranslator(MODEL, include_thoughts=True)
    got = feed(t, frame({"reasoning": "Hmm"}), frame({"reasoning": "!", "content": "A"}))
    assert parts(got[0][0]) == [{"text": "Hmm", "thought": True}]
    assert parts(got[1][0]) == [{"text": "!", "thought": True}, {"text": "A"}]


def test_tool_call_arguments_are_buffered_and_signed_on_finish() -> None:
    t = StreamTranslator(MODEL, include_thoughts=False)
    call = {"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
    text_detail = {"type": "reasoning.text", "text": "I need ", "format": "anthropic-claude-v1", "index": 0}
    got = feed(
        t,
        frame({"content": "Checking."}),
        frame({"reasoning_details": [text_detail]}),
        frame({"reasoning_details": [{"type": "reasoning.text", "text": "weather.", "index": 0}]}),
        frame({"reasoning_details": [{"type": "reasoning.text", "signature": "EqQBCkYI", "index": 0}]}),
        frame({"tool_calls": [call]}),
        frame({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
        frame({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
        frame({}, "tool_calls"),
    )
    assert [len(g) for g in got] == [1, 0, 0, 0, 0, 0, 0, 0]
    [final] = t.feed(b"[DONE]")
    final = json.loads(final)
    [part] = parts(final)
    assert part["functionCall"] == {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_1"}
    assert decode_signature(part["thoughtSignature"], "toolu_1") == [
        {
            "type": "reasoning.text",
            "text": "I need weather.",
            "format": "anthropic-claude-v1",
            "index": 0,
            "signature": "EqQBCkYI",
        }
    ]
    assert final["candidates"][0]["finishReason"] == "STOP"
    assert "usageMetadata" not in final


def test_several_choices_and_a_held_final_flushed_by_new_text() -> None:
    t = StreamTranslator(MODEL, include_thoughts=False)
    got = feed(
        t,
        frame({"content": "a"}, index=0),
        frame({"content": "b"}, "length", index=1),
        frame({"content": "c"}, index=0),
        frame({}, "stop", index=0),
        frame(usage=USAGE),
    )
    assert [len(g) for g in got] == [1, 0, 2, 0, 1]
    held, text = got[2]
    assert held["candidates"] == [
        {"content": {"role": "model", "parts": [{"text": "b"}]}, "finishReason": "MAX_TOKENS", "index": 1}
    ]
    assert parts(text) == [{"text": "c"}]
    assert got[4][0]["candidates"][0]["finishReason"] == "STOP"


def test_usage_in_the_finishing_frame_and_usage_alone() -> None:
    t = StreamTranslator(MODEL, include_thoughts=False)
    [[chunk]] = feed(t, frame({"content": "x"}, "stop", usage=USAGE))
    assert parts(chunk) == [{"text": "x"}] and chunk["usageMetadata"]["totalTokenCount"] == 14
    t = StreamTranslator(MODEL, include_thoughts=False)
    [[chunk]] = feed(t, frame(usage=USAGE))
    assert parts(chunk) == [{"text": ""}] and "finishReason" not in chunk["candidates"][0]


def test_error_frame_ends_the_translation() -> None:
    t = StreamTranslator(MODEL, include_thoughts=False)
    error = {"message": "Provider returned error", "code": 429}
    got = feed(t, frame({"content": "a"}), frame({"content": ""}, "error", error=error), frame({"content": "b"}))
    assert got[1] == [{"error": {"code": 429, "message": "Provider returned error", "status": "RESOURCE_EXHAUSTED"}}]
    assert got[2] == [] and t.finish() == []
    t = StreamTranslator(MODEL, include_thoughts=False)
    assert feed(t, frame(error={"code": "weird"}))[0][0]["error"]["code"] == 502


def test_unreadable_frames_are_skipped_and_a_cut_stream_still_gives_its_calls() -> None:
    t = StreamTranslator(MODEL, include_thoughts=False)
    call = {"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{}"}}
    assert feed(t, b"{oops", b"[1]", b"   ", frame({"tool_calls": [call]})) == [[], [], [], []]
    [chunk] = [json.loads(c) for c in t.finish()]
    assert parts(chunk) == [{"functionCall": {"name": "f", "args": {}, "id": "c1"}}]
    assert "finishReason" not in chunk["candidates"][0]


def test_done_without_a_finish_reason_still_ends_with_stop() -> None:
    t = StreamTranslator(MODEL, include_thoughts=False)
    assert len(t.feed(frame({"content": "x"}))) == 1
    [end] = [json.loads(c) for c in t.feed(b"[DONE]")]
    assert end["candidates"] == [
        {"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}
    ]


def test_framing() -> None:
    assert sse_event(b'{"a":1}') == b'data: {"a":1}\r\n\r\n'
    framer = JsonArrayFramer()
    wire = framer.frame(b"{}") + framer.frame(b'{"b":2}') + framer.close()
    assert wire == b'[{},\r\n{"b":2}]' and json.loads(wire) == [{}, {"b": 2}]
    assert JsonArrayFramer().close() == b"[]"
